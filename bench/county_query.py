"""bench.county's query step: a large archive built through Ingestor.process, then roster requests
(as an analyst, with a bearer token: the API answers no one else)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bench.accounts import account
from bench.county_mix import village
from bench.county_steps import Ctx, Row, count, fresh_engine, pct
from services.branch_node.service import NodeService
from services.county.api.app import create_app
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.processor import Ingestor
from services.county.projections import roster

BATCH = 1000


def bench_query(ctx: Ctx, db: str, url: str) -> list[Row]:
    engine = fresh_engine(url, ctx.query_nodes)
    try:
        rows = [build(ctx, db, engine)]
        members = count(engine, roster.members)
        analyst = account(engine)
        with TestClient(create_app(engine), headers=analyst.bearer) as client:
            rows += requests(ctx, db, client, members)
        return rows
    finally:
        engine.dispose()


def build(ctx: Ctx, db: str, engine: Engine) -> Row:
    """Every query node's envelopes into Ingestor.process, 1,000 per call, the nodes taking turns."""
    ingestor = Ingestor(engine, "jx")
    nodes = [NodeService(p) for p in ctx.query_nodes]
    total, other, t0, shown = 0, 0, time.perf_counter(), 0
    stretches: list[float] = []  # events/s of each stretch of 100,000
    last = t0
    try:
        after = dict.fromkeys(range(len(nodes)), 0)
        while after:
            for k in list(after):
                rows = nodes[k].envelopes.after(after[k], BATCH)
                if not rows:
                    del after[k]
                    continue
                subject = nodes[k].subject
                outcomes = ingestor.process([Incoming(d, subject) for _, d in rows])
                other += sum(1 for o in outcomes if o is not Outcome.ARCHIVED)
                after[k], total = rows[-1][0], total + len(rows)
                if total - shown >= 100_000:
                    now = time.perf_counter()
                    stretches.append((total - shown) / (now - last))
                    shown, last = total, now
                    ctx.say(f"    ingested {total:,} (these {stretches[-1]:,.0f} events/s)")
    finally:
        for node in nodes:
            node.close()
    rate = total / (time.perf_counter() - t0)
    note = f"{total:,} events, {len(nodes)} nodes taking turns; not archived: {other}"
    if len(stretches) > 1:
        note += f"; first 100k {stretches[0]:,.0f}/s, last {stretches[-1]:,.0f}/s"
    return Row(
        db,
        "query archive: Ingestor.process(1,000)",
        rate,
        "events/s",
        "",
        None if other == 0 else False,
        note,
    )


def requests(ctx: Ctx, db: str, client: TestClient, members: int) -> list[Row]:
    """200 requests (after 5 not counted) over varied villages, for the member page and the counts."""
    n, villages = ctx.args.requests, ctx.args.villages
    out: list[Row] = []
    paths = {
        "GET /api/v1/roster/members?village=": "/api/v1/roster/members?village=",
        "GET /api/v1/roster?village=": "/api/v1/roster?village=",
    }
    for name, path in paths.items():
        times: list[float] = []
        sizes = totals = 0
        for i in range(-5, n):
            v = village(i * 37 + 11, villages)
            t0 = time.perf_counter()
            r = client.get(path + v)
            dt = time.perf_counter() - t0
            if r.status_code != 200:
                raise RuntimeError(f"{path}{v}: {r.status_code} {r.text[:300]}")
            if i >= 0:
                times.append(dt * 1000)
                sizes += len(r.content)
                totals += int(r.json()["total"])
        p50, p95 = pct(times, 50), pct(times, 95)
        note = (
            f"{n} requests over {villages} villages, as an analyst (bearer); {members:,} members, "
            f"{totals / n:.0f} per village, {sizes / n / 1024:.1f} KiB per response"
        )
        out += [
            Row(db, f"{name}…: p50", p50, "ms", "", None, note),
            Row(db, "  p95", p95, "ms", "≤ 50", p95 <= 50, f"max {max(times):.1f} ms"),
        ]
    return out
