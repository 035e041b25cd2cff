"""`tongxin node forward`: send the node's envelopes to the county's JetStream, with a progress bar.

Sent is not yet reported: JetStream's acknowledgement says the county's server has the envelope,
the county's receipt says the county has archived it. `--once` sends what waits and says how far
the county has confirmed; `--wait-confirmed` then waits for the receipt to cover the head.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.branch_node.cli_base import DataDir, err, fail, open_node, out
from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeStatus
from shared.transport import connect

CONFIRM_POLL = 1.0
"""Seconds between asking for the county's receipt while --wait-confirmed waits for it."""
CONNECT_LIMIT = 10.0
"""Seconds a --once run keeps retrying an unreachable NATS before it gives up."""


def register(app: typer.Typer) -> None:
    """Add `forward` to `app`."""
    app.command(
        epilog="Examples:\n\ntongxin node forward --once\n\ntongxin node forward --wait-confirmed 60"
    )(forward)


def forward(
    once: Annotated[
        bool,
        typer.Option(help="Send what waits, then exit (exit 1 if some is still waiting: NATS unreachable)."),
    ] = False,
    wait_confirmed: Annotated[
        float | None,
        typer.Option(
            "--wait-confirmed",
            metavar="SECONDS",
            min=0,
            help="After sending, wait up to SECONDS for the county's receipt to cover the last seq "
            "(exit 1 if it does not). Implies --once.",
        ),
    ] = None,
    nats: Annotated[
        str | None,
        typer.Option(help="NATS URL; a cluster's comma-separated (default: the one given at init)."),
    ] = None,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Forward the node's events to the county's JetStream, with a progress bar.

    An event is reported when the county's receipt confirms it, not when JetStream has it:
    --once prints both, and succeeds when nothing waits to be sent.

    Exit status: 0; 1 when something still waits to be sent, or (--wait-confirmed)
    the county has not confirmed the last seq in time; 3 on a fork: the node's log
    and the county's receipts disagree, and forwarding has stopped.
    """
    once = once or wait_confirmed is not None
    node = open_node(data_dir)
    try:
        start = node.status()
        if start.fork is not None:  # the county's receipts already held say so: send nothing
            raise fail(_forked(start.fork.reason) + "; nothing was sent", code=3)
        with Progress(
            TextColumn("forwarding"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("forward", total=start.last_seq, completed=start.forwarded_seq)
            fwd = Forwarder(
                node,
                nats or node.config.nats_url,
                progress=lambda d, last: bar.update(task, completed=d, total=last),
            )
            asyncio.run(_forward(fwd, once, wait_confirmed))
        st = node.status()
    finally:
        node.close()
    _report(st, fwd, once, wait_confirmed)


def _report(st: NodeStatus, fwd: Forwarder, once: bool, wait_confirmed: float | None) -> None:
    """What was sent and what the county confirmed; fail with the code the help promises."""
    out.print(
        f"sent up to seq {st.forwarded_seq} of {st.last_seq}; "
        f"the county has confirmed up to seq {st.confirmed_seq}"
        + (f" ({st.unconfirmed} sent, not confirmed yet)" if st.unconfirmed else ""),
        highlight=False,
    )
    fork = st.fork.reason if st.fork is not None else fwd.state.forked
    if fork is not None:
        raise fail(_forked(fork), code=3)
    if not st.backlog:
        out.print("all reported: the county's receipt covers the last seq", highlight=False)
    if once and st.waiting:
        raise fail(f"{st.waiting} event(s) not forwarded: {fwd.state.last_error}", code=1)
    if wait_confirmed is not None and st.backlog:
        raise fail(
            f"the county has not confirmed seq {st.confirmed_seq + 1}..{st.last_seq}"
            f" within {wait_confirmed:g}s",
            code=1,
        )


def _forked(reason: str) -> str:
    return f"forwarding stopped on a fork: {reason}; see `tongxin node status`, then `tongxin node recover`"


async def _forward(fwd: Forwarder, once: bool, wait_confirmed: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not once:
        await fwd.run(stop)
        return
    fwd.backoff.cap = 2.0
    task = asyncio.create_task(fwd.run(stop, once=True))
    limit = loop.time() + CONNECT_LIMIT
    while not task.done():
        await asyncio.sleep(0.1)
        if fwd.state.failures and loop.time() > limit:
            stop.set()
    await task
    if wait_confirmed is not None and not stop.is_set():
        await _wait_confirmed(fwd, stop, wait_confirmed)


async def _wait_confirmed(fwd: Forwarder, stop: asyncio.Event, seconds: float) -> None:
    """Until the county's receipt covers the head (or a fork, or `seconds`): ask for the newest
    receipt every CONFIRM_POLL over one connection (made again when it is lost)."""
    timer = asyncio.get_running_loop().call_later(seconds, stop.set)
    said = None
    nc: Any = None
    try:
        while not stop.is_set():
            st = fwd.node.status()
            if st.confirmed_seq >= st.last_seq or st.fork is not None or fwd.state.forked is not None:
                return
            if said != (st.confirmed_seq, st.last_seq):
                said = (st.confirmed_seq, st.last_seq)
                err.print(
                    f"waiting up to {seconds:g}s for the county's receipt: "
                    f"confirmed up to seq {st.confirmed_seq} of {st.last_seq}",
                    highlight=False,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CONFIRM_POLL)
            if stop.is_set():
                return
            try:
                if nc is None or not nc.is_connected:
                    nc = await connect(fwd.nats_url, identity=fwd.identity)
                await fwd.fetch_receipt(nc.jetstream())
            except Exception as exc:
                fwd.state.last_error = f"receipt: {exc!r}"
                await _close(nc)
                nc = None
    finally:
        timer.cancel()
        await _close(nc)


async def _close(nc: Any) -> None:
    if nc is not None:
        with contextlib.suppress(Exception):
            await nc.close()
