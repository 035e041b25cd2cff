"""County figures on SQLite and PostgreSQL: end to end from 21 nodes against raw JetStream, rebuild,
append→visible latency, roster queries over a large archive.

    python -m bench.county [--db sqlite|postgresql|both] [--nodes N] [--events N] [--open-nats] [--json]

Measures and prints; never asserts. Everything runs in a temp dir against an embedded
nats-server with its users (nodes as themselves, the county as county, the raw baseline as the
operator) unless `--open-nats`; PostgreSQL runs use a uniquely named database on 127.0.0.1:5432,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import node as node_bench
from bench.county_audit import audit_rows
from bench.county_latency import latency
from bench.county_mix import QueryMix, e2e_items, make_nodes
from bench.county_query import bench_query
from bench.county_steps import Ctx, Row, e2e, envelopes, fresh_engine, raw_baseline, rebuild_rows
from bench.nats_users import OPEN_HELP, BenchNats

err = Console(stderr=True)


@contextlib.contextmanager
def database(kind: str, root: Path, name: str) -> Iterator[str]:
    """A fresh, empty database URL: a file under root, or a new PostgreSQL database (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{root / (name + '.db')}"
        return
    from tests.conftest import postgres_database  # the tests' own: create, then DROP … WITH (FORCE)

    with postgres_database() as url:
        yield url


def pg_version() -> str:
    try:
        import psycopg

        from tests.conftest import PG_ADMIN_URL

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:

            def show(name: str) -> str:
                row = conn.execute(f"SHOW {name}").fetchone()
                return str(row[0]) if row else "?"

            # autovacuum matters: without it nothing ANALYZEs a fresh, growing archive
            return f"{show('server_version').split()[0]} (autovacuum {show('autovacuum')})"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def machine() -> dict[str, str]:
    info = node_bench.machine()
    load = info.pop("load at start")
    info |= {"sqlalchemy": version("sqlalchemy"), "psycopg": version("psycopg"), "postgresql": pg_version()}
    return info | {"load at start": load}


def failed(db: str, step: str, exc: BaseException) -> Row:
    err.print(f"[red]{db}: {step} failed:[/] {exc!r}")
    err.print(traceback.format_exc(), markup=False, highlight=False)
    return Row(db, step, None, "", ok=False, note=f"error: {exc!r}"[:200])


def bench_e2e(ctx: Ctx, db: str, url: str) -> list[Row]:
    """County e2e through `tongxin county ingest`, the raw baseline, digests and rebuild, audit verify,
    latency."""
    engine = fresh_engine(url, ctx.e2e_nodes)
    try:
        rows, rate = e2e(ctx, db, url, engine)
        rows += raw_baseline(ctx, db, rate)
        rows += rebuild_rows(ctx, db, engine)
        rows += audit_rows(ctx, db, url)
        rows += latency(ctx, db, url, engine)
        return rows
    finally:
        engine.dispose()


Step = Callable[[Ctx, str, str], list[Row]]


def record(ctx: Ctx) -> None:
    """The nodes, recorded once (not timed) and shared by every database."""
    a = ctx.args
    ctx.say(f"recording {a.nodes} nodes × {a.events:,} events (not timed)")
    ctx.e2e_nodes = make_nodes(
        ctx.root / "e2e-nodes",
        a.nodes,
        lambda k: e2e_items(k, a.events, a.nodes, a.villages),
        ctx.say,
    )
    ctx.bus.allow(*ctx.e2e_nodes)  # the e2e copies keep each node's nats.seed
    ctx.envelopes = envelopes(ctx)
    if not a.skip_query:
        ctx.say(f"recording {a.query_events:,} events with {a.query_members:,} members over {a.nodes} nodes")
        mix = QueryMix(a.query_events, a.query_members, a.nodes, a.villages)
        ctx.query_nodes = make_nodes(ctx.root / "query-nodes", a.nodes, mix.items, ctx.say)


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    e2e_step = "county e2e, raw baseline, rebuild, audit verify, latency"
    steps: list[tuple[str, str, Step]] = [("e2e", e2e_step, bench_e2e)]
    if not args.skip_query:
        steps.append(("query", "roster queries over a large archive", bench_query))
    with tempfile.TemporaryDirectory(prefix="tongxin-bench-county-") as tmp:
        root = Path(tmp)
        bus = BenchNats(root / "nats", open_access=args.open_nats)
        try:
            url = bus.start()
            err.print(bus.describe())
            say = lambda s: err.print(s, highlight=False)  # noqa: E731
            ctx = Ctx(root, url, args, say, bus)
            try:
                record(ctx)
            except Exception as exc:
                return [failed("-", "recording the nodes", exc)]
            for kind in kinds:
                for name, what, step in steps:
                    err.print(f"[bold]{kind}[/]: {what}")
                    try:
                        with database(kind, root, f"{name}-{kind}") as db_url:
                            rows += step(ctx, kind, db_url)
                    except BaseException as exc:  # report it (pytest.skip too), go on with the next
                        if isinstance(exc, KeyboardInterrupt | SystemExit):
                            raise
                        rows.append(failed(kind, what, exc))
        finally:
            bus.stop()
    return rows


def result(r: Row) -> dict[str, Any]:
    return {**asdict(r), "result": None if r.ok is None else "PASS" if r.ok else "MISS"}


def show(rows: list[Row], info: dict[str, str], console: Console, title: str = "Tongxin county") -> None:
    caption = " · ".join(f"{k} {v}" for k, v in info.items())
    table = Table(title=title, caption=caption)
    console.width = max(console.width, 170)  # not squeezed into 80 columns when piped
    for col in ("db", "measurement", "value", "unit", "target", "result", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for r in rows:
        value = "—" if r.value is None else f"{r.value:,.{2 if abs(r.value) < 100 else 0}f}"
        res = "" if r.ok is None else "[green]PASS[/]" if r.ok else "[red]MISS[/]"
        table.add_row(r.db, r.name, value, r.unit, r.target, res, r.note)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.county", description=__doc__.split("\n\n")[0])
    add = ap.add_argument
    add("--db", choices=("sqlite", "postgresql", "both"), default="both", help="(both)")
    add("--nodes", type=int, default=21, help="branch nodes (21)")
    add("--events", type=int, default=10_000, help="events per node for the e2e run (10,000)")
    add("--villages", type=int, default=200, help="village branches; 10 per township (200)")
    add("--rate", type=float, default=500.0, help="events/s for the latency run (500)")
    add("--latency-seconds", type=float, default=20.0, help="length of the latency run (20 s)")
    add("--latency-nodes", type=int, default=21, help="nodes sharing --rate in the latency run (21)")
    add("--query-events", type=int, default=1_000_000, help="archived events for the queries (1,000,000)")
    add("--query-members", type=int, default=10_000, help="members among them (10,000)")
    add("--requests", type=int, default=200, help="requests per query (200)")
    add("--skip-query", action="store_true", help="leave out the query step (and its recording)")
    add("--timeout", type=float, default=900.0, help="per wait for the county to catch up (900 s)")
    add("--open-nats", action="store_true", help=OPEN_HELP)
    add("--json", action="store_true", help="write the results as JSON to stdout")
    args = ap.parse_args(argv)
    if args.events < args.villages + args.nodes + 60:
        ap.error(
            f"--events must exceed the org tree the first node records ({args.villages + args.nodes + 1})"
        )
    info = machine()
    info["nats"] = "open (--open-nats)" if args.open_nats else "users"
    rows = run(args)
    info["load at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())  # others share the cores
    if args.json:
        show(rows, info, err)
        params = {k: v for k, v in vars(args).items() if k != "json"}
        out = {"machine": info, "params": params, "results": [result(r) for r in rows]}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        show(rows, info, Console())


if __name__ == "__main__":
    main()
