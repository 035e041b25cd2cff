"""bench.county's latency step: one node recording single events at a steady rate, the county apart."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.county_mix import COUNTY, Item, business, e2e_item
from bench.county_steps import Ctx, Row, child, consumer_exists, pct, wait_until
from bench.node import new_node, stream
from services.branch_node.forwarder import Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.service import Node
from services.county.ingest.consumer import consumer_name
from services.county.registry import enrol

THREADS = 4


def latency(ctx: Ctx, db: str, url: str, engine: Engine) -> list[Row]:
    """One node recording single events at --rate with its forwarder awake; the county consumes apart."""
    args, run_root = ctx.args, ctx.root / f"latency-{db}"
    n = int(args.rate * args.latency_seconds)
    node = new_node(run_root / "node", "latency", ctx.secret_hex, ctx.nats)
    with engine.begin() as conn:
        enrol(conn, node.node_id, node.signer.public_key_hex)
    g0 = len(ctx.e2e_nodes) * args.events
    events = [
        parse_item(_item(i, g0, node.county_secret, args.villages), node.county_secret) for i in range(n)
    ]
    asyncio.run(stream(ctx.nats, fresh=True))
    commits, log = run_root / "commits.txt", ctx.root / f"latency-worker-{db}.log"
    cmd = [sys.executable, "-m", "bench.county_worker", "ingest", "--db", url, "--nats", ctx.nats]
    try:
        with child([*cmd, "--commits", str(commits)], log) as proc:
            ready = lambda: asyncio.run(consumer_exists(ctx.nats, consumer_name(COUNTY)))  # noqa: E731
            wait_until(ready, proc, 60, "the county's durable consumer", log)
            ctx.say(f"    recording {n:,} single events at {args.rate:g}/s, forwarder awake")
            achieved = asyncio.run(_steady(node, ctx.nats, events, args.rate, commits, args.timeout))
    finally:
        node.close()
    first: dict[int, float] = {}
    for line in commits.read_text().splitlines():
        node_id, seq, recorded_at, committed, outcome = line.split()
        if node_id == "latency" and outcome == "archived" and int(seq) not in first:
            first[int(seq)] = float(committed) - datetime.fromisoformat(recorded_at).timestamp()
    ms = [v * 1000 for v in first.values()]
    p50, p95, p99 = (pct(ms, p) for p in (50, 95, 99))
    note = f"{len(ms):,}/{n:,} events committed; max {max(ms, default=0):.0f} ms"
    held = achieved >= 0.95 * args.rate
    why = "" if held else "the node could not record at the rate with its forwarder awake"
    return [
        Row(
            db,
            "append→visible: recording rate held",
            achieved,
            "events/s",
            f"≥ 95 % of {args.rate:g}",
            held,
            why,
        ),
        Row(db, "  p50", p50, "ms", "", None, note),
        Row(db, "  p95", p95, "ms"),
        Row(db, "  p99", p99, "ms", "≤ 250", p99 <= 250 and len(ms) == n, f"at {achieved:,.0f} events/s"),
    ]


def _item(i: int, g0: int, secret: bytes, villages: int) -> Item:
    """The e2e mix; a move only of a member registered ≥ 994 events before (the threads may reorder
    neighbours), a fund in its place before that."""
    if i % 20 == 6 and i < 1000:
        return business(0, i, "latency", lambda n: [])
    return e2e_item(i, g0, "latency", secret, villages)


async def _steady(
    node: Node, url: str, events: list[Any], rate: float, commits: Path, timeout: float
) -> float:
    """The node's forwarder on this loop; a thread records one event per 1/rate s and wakes it
    (as `node serve` records in its API's threads); then wait until the county committed all.
    Returns the achieved recording rate."""
    fwd, stop, loop = Forwarder(node, url), asyncio.Event(), asyncio.get_running_loop()
    task = asyncio.create_task(fwd.run(stop))
    try:
        wake = partial(loop.call_soon_threadsafe, fwd.wake.set)
        achieved = await asyncio.to_thread(_produce, node, events, rate, wake)
        deadline = time.monotonic() + timeout
        while _archived(commits, "latency") < len(events) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return achieved
    finally:
        stop.set()
        await task


def _produce(node: Node, events: list[Any], rate: float, wake: Callable[[], object]) -> float:
    """Open loop: event k is handed at t0 + k/rate to a pool of THREADS (as the node's HTTP API
    serves requests in threads), which records it and wakes the forwarder."""

    def record(ev: Any) -> None:
        node.record([ev])
        wake()

    with ThreadPoolExecutor(THREADS) as pool:
        t0, done = time.perf_counter(), []
        for k, ev in enumerate(events):
            delay = t0 + k / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            done.append(pool.submit(record, ev))
        for f in done:
            f.result()
    return len(events) / (time.perf_counter() - t0)


def _archived(commits: Path, node_id: str) -> int:
    if not commits.exists():
        return 0
    prefix = node_id + " "
    return sum(
        1
        for line in commits.read_text().splitlines()
        if line.startswith(prefix) and line.endswith(" archived")
    )
