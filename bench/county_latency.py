"""bench.county's latency step: single events at a steady total rate from remote nodes (fed) and
from node processes on this machine; the county consumes apart."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
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
from services.branch_node.service import NodeService
from services.county.ingest.durable import consumer_name
from services.county.registry import enrol

MODES = {
    "feed": ("remote nodes (fed)", "one feeder process signs and publishes each envelope when due"),
    "nodes": ("node processes here", "each node its own process: records alone (fsync), forwards"),
}


def latency(ctx: Ctx, db: str, url: str, engine: Engine) -> list[Row]:
    """--rate events/s in all from --latency-nodes nodes, for --latency-seconds, twice: as remote
    nodes would deliver them (fed, the target's setting), then with every node a process on this
    machine, sharing its 2 cores with the county."""
    return _run(ctx, db, url, engine, "feed") + _run(ctx, db, url, engine, "nodes")


def _run(ctx: Ctx, db: str, url: str, engine: Engine, mode: str) -> list[Row]:
    args, run_root = ctx.args, ctx.root / f"latency-{mode}-{db}"
    n, k = int(args.rate * args.latency_seconds), args.latency_nodes
    names = [f"{mode}-{j + 1:02d}" for j in range(k)]
    for name in names:
        node = new_node(run_root / name, name, ctx.nats)
        with engine.begin() as conn:
            enrol(conn, node.node_id, node.signer.public_key_hex)
        node.close()
    ctx.bus.allow(*(run_root / name for name in names))  # each node (or the feeder for it) as itself
    g0, operator = len(ctx.e2e_nodes) * args.events, ctx.bus.operator
    asyncio.run(stream(ctx.nats, operator, fresh=True))
    commits, log = run_root / "commits.txt", ctx.root / f"latency-{mode}-worker-{db}.log"
    cmd = [sys.executable, "-m", "bench.county_worker", "ingest", "--db", url, "--nats", ctx.nats]
    with child([*cmd, "--commits", str(commits), *ctx.bus.seed_args("county")], log) as proc:
        ready = lambda: asyncio.run(consumer_exists(ctx.nats, consumer_name(COUNTY), operator))  # noqa: E731
        wait_until(ready, proc, 60, "the county's durable consumer", log)
        ctx.say(f"    {MODES[mode][0]}: {k} nodes, {n:,} single events at {args.rate:g}/s in all")
        producers = (_feeder if mode == "feed" else _nodes)(ctx, run_root, names, n, g0)
        achieved, cpu = _wait(ctx, producers, n)
        deadline = time.monotonic() + args.timeout
        while _archived(commits, set(names)) < n and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
    return _rows(ctx, db, mode, commits, names, n, achieved, cpu)


def _rows(
    ctx: Ctx, db: str, mode: str, commits: Path, names: list[str], n: int, achieved: float, cpu: float
) -> list[Row]:
    first: dict[tuple[str, int], tuple[float, float]] = {}  # (recorded → committed, received → committed)
    for line in commits.read_text().splitlines():
        node_id, seq, recorded_at, received_at, committed, outcome = line.split()
        if node_id in names and outcome == "archived" and (node_id, int(seq)) not in first:
            at = float(committed)
            first[node_id, int(seq)] = (
                at - datetime.fromisoformat(recorded_at).timestamp(),
                at - datetime.fromisoformat(received_at).timestamp(),
            )
    ms = [v[0] * 1000 for v in first.values()]
    p50, p95, p99 = (pct(ms, p) for p in (50, 95, 99))
    county = [v[1] * 1000 for v in first.values()]
    note = f"{len(ms):,}/{n:,} events committed; max {max(ms, default=0):.0f} ms"
    c50, c95, c99 = (pct(county, p) for p in (50, 95, 99))
    split = f"of which at the county (fetched → committed): p50 {c50:.0f}, p95 {c95:.0f}, p99 {c99:.0f} ms"
    rate = ctx.args.rate
    held = achieved >= 0.95 * rate
    title, how = MODES[mode]
    why = f"{how}; producers' CPU {cpu / n * 1e6:,.0f} µs/event" + (
        "" if held else " (could not keep the rate)"
    )
    return [
        Row(db, f"append→visible, {title}: rate", achieved, "events/s", f"≥ 95 % of {rate:g}", held, why),
        Row(db, "  p50", p50, "ms", "", None, note),
        Row(db, "  p95", p95, "ms", "", None, split),
        Row(db, "  p99", p99, "ms", "≤ 250", p99 <= 250 and len(ms) == n, f"at {achieved:,.0f} events/s"),
    ]


def latency_item(i: int, g0: int, org: str, villages: int) -> Item:
    """The e2e mix; a move only of a member registered ≥ 994 events before, a fund in its place
    before that."""
    if i % 20 == 6 and i < 1000:
        return business(0, i, org, lambda n: [])
    return e2e_item(i, g0, org, villages)


def _feeder(ctx: Ctx, run_root: Path, names: list[str], n: int, g0: int) -> list[Producer]:
    start = time.time() + 3.0  # time for the child to import and prepare
    dirs = ",".join(str(run_root / name) for name in names)
    cmd = [
        sys.executable, "-m", "bench.county_worker", "feed", "--dirs", dirs, "--nats", ctx.nats,
        "--count", str(n), "--rate", str(ctx.args.rate), "--g0", str(g0),
        "--villages", str(ctx.args.villages), "--start", f"{start:.6f}",
    ]  # fmt: skip
    return [(cmd, run_root / "feed.log", start)]


def _nodes(ctx: Ctx, run_root: Path, names: list[str], n: int, g0: int) -> list[Producer]:
    start, per = time.time() + 5.0, -(-n // len(names))  # time for every child to open its node
    out = []
    for j, name in enumerate(names):
        cmd = [
            sys.executable, "-m", "bench.county_worker", "node", "--dir", str(run_root / name),
            "--nats", ctx.nats, "--index", str(j), "--nodes", str(len(names)), "--count", str(n),
            "--rate", str(ctx.args.rate), "--g0", str(g0 + j * per), "--villages",
            str(ctx.args.villages), "--start", f"{start:.6f}",
        ]  # fmt: skip
        out.append((cmd, run_root / f"{name}.log", start))
    return out


Producer = tuple[list[str], Path, float]
"""A producer's command, log and start time."""


def _wait(ctx: Ctx, producers: list[Producer], n: int) -> tuple[float, float]:
    """Runs the producers; returns the rate they achieved together (events / (last one produced
    − start)) and the CPU they used (start-up excluded)."""
    with contextlib.ExitStack() as stack:
        procs = [
            (stack.enter_context(child(cmd, log, stdout=subprocess.PIPE)), log) for cmd, log, _ in producers
        ]
        ends, cpu = [], 0.0
        for proc, log in procs:
            out, _ = proc.communicate(timeout=ctx.args.timeout)
            if proc.returncode != 0:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{proc.args!r} exited {proc.returncode}:\n{tail}")
            used, last = out.split()
            ends.append(float(last))
            cpu += float(used)
    return n / (max(ends) - producers[0][2]), cpu


def node_process(args: Any) -> None:
    """One node of the latency step (`python -m bench.county_worker node …`): records its share
    of the events (event e is node e % nodes' and is due at start + e / rate), each alone, waking
    its forwarder, as `node serve` does for a clerk's request; prints when it recorded the last."""
    node = NodeService(Path(args.dir))
    mine = range(args.index, args.count, args.nodes)
    items = [
        parse_item(latency_item(i, args.g0, node.node_id, args.villages), node.keys) for i in range(len(mine))
    ]

    async def run() -> float:
        stop, loop = asyncio.Event(), asyncio.get_running_loop()
        fwd = Forwarder(node, args.nats)
        task = asyncio.create_task(fwd.run(stop))
        wake = partial(loop.call_soon_threadsafe, fwd.wake.set)
        due = [args.start + e / args.rate for e in mine]
        last = await asyncio.to_thread(_produce, node, items, due, wake)
        while node.envelopes.cursor().forwarded_seq < node.log.last_seq():
            await asyncio.sleep(0.05)
        stop.set()
        await task
        return last

    cpu = time.process_time()  # start-up and imports excluded
    try:
        last = asyncio.run(run())
    finally:
        node.close()
    print(f"{time.process_time() - cpu:.3f} {last:.6f}", flush=True)


def _produce(node: NodeService, items: list[Any], due: list[float], wake: Callable[[], object]) -> float:
    """Open loop: each item recorded alone at its due time (or at once when late)."""
    for ev, at in zip(items, due, strict=True):
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        node.record([ev])
        wake()
    return time.time()


def _archived(commits: Path, node_ids: set[str]) -> int:
    if not commits.exists():
        return 0
    return sum(
        1
        for line in commits.read_text().splitlines()
        if line.endswith(" archived") and line.split(" ", 1)[0] in node_ids
    )
