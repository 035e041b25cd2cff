"""bench.county's latency step: nodes recording single events at a steady total rate, the county apart."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Mapping
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

THREADS = 8


def latency(ctx: Ctx, db: str, url: str, engine: Engine) -> list[Row]:
    """--latency-nodes nodes recording single events at --rate in total, each with its forwarder
    awake; the county consumes apart."""
    args, run_root = ctx.args, ctx.root / f"latency-{db}"
    n, k = int(args.rate * args.latency_seconds), args.latency_nodes
    names = [f"lat-{j + 1:02d}" for j in range(k)]
    nodes = [new_node(run_root / name, name, ctx.secret_hex, ctx.nats) for name in names]
    with engine.begin() as conn:
        for node in nodes:
            enrol(conn, node.node_id, node.signer.public_key_hex)
    g0, per = len(ctx.e2e_nodes) * args.events, -(-n // k)
    secret = nodes[0].county_secret
    events = [  # event e: node e % k's (e // k)-th
        (
            nodes[e % k],
            parse_item(_item(e // k, g0 + (e % k) * per, names[e % k], secret, args.villages), secret),
        )
        for e in range(n)
    ]
    asyncio.run(stream(ctx.nats, fresh=True))
    commits, log = run_root / "commits.txt", ctx.root / f"latency-worker-{db}.log"
    cmd = [sys.executable, "-m", "bench.county_worker", "ingest", "--db", url, "--nats", ctx.nats]
    try:
        with child([*cmd, "--commits", str(commits)], log) as proc:
            ready = lambda: asyncio.run(consumer_exists(ctx.nats, consumer_name(COUNTY)))  # noqa: E731
            wait_until(ready, proc, 60, "the county's durable consumer", log)
            ctx.say(
                f"    {k} nodes recording {n:,} single events at {args.rate:g}/s in all, forwarders awake"
            )
            achieved = asyncio.run(_steady(nodes, ctx.nats, events, args.rate, commits, args.timeout))
    finally:
        for node in nodes:
            node.close()
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
    held = achieved >= 0.95 * args.rate
    why = f"{k} node(s), {THREADS} recording threads" + (
        "" if held else ": the nodes could not record at the rate with their forwarders awake"
    )
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
        Row(db, "  p95", p95, "ms", "", None, split),
        Row(db, "  p99", p99, "ms", "≤ 250", p99 <= 250 and len(ms) == n, f"at {achieved:,.0f} events/s"),
    ]


def _item(i: int, g0: int, org: str, secret: bytes, villages: int) -> Item:
    """The e2e mix; a move only of a member registered ≥ 994 events before (the threads may reorder
    neighbours), a fund in its place before that."""
    if i % 20 == 6 and i < 1000:
        return business(0, i, org, lambda n: [])
    return e2e_item(i, g0, org, secret, villages)


async def _steady(
    nodes: list[Node], url: str, events: list[tuple[Node, Any]], rate: float, commits: Path, timeout: float
) -> float:
    """Every node's forwarder on this loop; threads record one event per 1/rate s and wake its
    node's forwarder (as `node serve` records in its API's threads); then wait until the county
    committed all. Returns the achieved recording rate."""
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    fwds = {node.node_id: Forwarder(node, url) for node in nodes}
    tasks = [asyncio.create_task(f.run(stop)) for f in fwds.values()]
    try:
        wake = {n: partial(loop.call_soon_threadsafe, f.wake.set) for n, f in fwds.items()}
        achieved = await asyncio.to_thread(_produce, events, rate, wake)
        deadline = time.monotonic() + timeout
        while _archived(commits, set(fwds)) < len(events) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return achieved
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def _produce(events: list[tuple[Node, Any]], rate: float, wake: Mapping[str, Callable[[], object]]) -> float:
    """Open loop: event k is handed at t0 + k/rate to a pool of THREADS (as a node's HTTP API
    serves requests in threads), which records it at its node and wakes that node's forwarder."""

    def record(node: Node, ev: Any) -> None:
        node.record([ev])
        wake[node.node_id]()

    with ThreadPoolExecutor(THREADS) as pool:
        t0, done = time.perf_counter(), []
        for k, (node, ev) in enumerate(events):
            delay = t0 + k / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            done.append(pool.submit(record, node, ev))
        for f in done:
            f.result()
    return len(events) / (time.perf_counter() - t0)


def _archived(commits: Path, node_ids: set[str]) -> int:
    if not commits.exists():
        return 0
    return sum(
        1
        for line in commits.read_text().splitlines()
        if line.endswith(" archived") and line.split(" ", 1)[0] in node_ids
    )
