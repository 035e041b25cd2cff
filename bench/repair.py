"""What repair costs: a node's whole backlog lost inside JetStream before the county read it, then
re-sent from the node's log by receipt-driven repair, against the same backlog ingested the normal
way, in one run.

    python -m bench.repair [--events 100000] [--db sqlite|postgresql] [--grace 5] [--open-nats] [--json]

Two nodes record `--events` each. The first forwards, the county ingests it (normal: forward +
ingest, timed from the county's start until the receipt covers the head). The second forwards
while the county is stopped; the nats-server is stopped, its store deleted and started again —
the stream lost the whole backlog, and the duplicate window with it. The county and the node start
again; the node's receipt stands still for `--grace` seconds, the node re-sends, the county
archives (repair: timed the same way). Prints both rates, their ratio, and what was re-sent;
checks that the archive holds each node's log exactly. Measures and prints; asserts nothing else.

NATS runs with its users (each node as itself, the county as county; the store's loss keeps the
users) unless `--open-nats`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select

from bench.loop import Loop
from bench.nats_users import OPEN_HELP, BenchNats
from bench.node import make_events, record_all
from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.registry import enrol
from shared.signing import Signer

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def exact(engine: Engine, node: NodeService) -> bool:
    """The archive holds the node's log exactly: the same seqs with the same hashes."""
    a = t.archive.c
    with engine.connect() as conn:
        rows = conn.execute(select(a.seq, a.hash).where(a.node_id == node.node_id).order_by(a.seq)).all()
    return [(int(s), h) for s, h in rows] == [(s, h) for s, h, _ in node.envelopes.rows_after(0, 10**9)]


def _until(check: Callable[[], bool], timeout: float) -> float:
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("not converged")
        time.sleep(0.05)
    return time.perf_counter() - start


def run(args: argparse.Namespace, root: Path, db_url: str) -> dict[str, Any]:
    server = BenchNats(root / "nats", open_access=args.open_nats)
    server.start()
    county_key = Signer.generate()
    engine = make_engine(db_url)
    migrate(engine)
    nodes: dict[str, NodeService] = {}
    try:
        for node_id in ("normal", "repaired"):
            config = NodeConfig(
                node_id=node_id,
                county_id="jx",
                nats_url=server.url,
                county_public_key=county_key.public_key_hex,
            )
            NodeDir(root / node_id).create(config)
            server.allow(root / node_id)
            nodes[node_id] = NodeService(root / node_id)
            with engine.begin() as conn:
                enrol(conn, node_id, nodes[node_id].first_key.public_key_hex)
            record_all(nodes[node_id], make_events(args.events), 1000)

        def county() -> tuple[Consumer, Loop]:
            ingestor = Ingestor(engine, "jx", county_key)
            c = Consumer(ingestor, server.url, repair_grace=args.grace, identity=server.county)
            return c, Loop(c.run)

        def node(node_id: str) -> tuple[Forwarder, Loop]:
            f = Forwarder(nodes[node_id], server.url, repair_grace=args.grace)  # as the node itself
            return f, Loop(lambda stop: f.run(stop, idle_poll=0.05))

        def confirmed(node_id: str) -> bool:
            return nodes[node_id].status().backlog == 0

        # normal: the node forwards, the county ingests, the receipt covers the head
        fwd, fl = node("normal")
        _c, cl = county()
        normal_s = _until(lambda: confirmed("normal"), 1800)
        cl.close()
        fl.close(fwd.wake)
        # repair: forwarded while the county is stopped, then lost with the server's store
        fwd, fl = node("repaired")
        _until(lambda: nodes["repaired"].status().waiting == 0, 1800)
        fl.close(fwd.wake)
        server.lose_store()
        fwd, fl = node("repaired")
        _c, cl = county()
        repair_s = _until(lambda: confirmed("repaired"), 1800)
        resent = fwd.state.resent
        cl.close()
        fl.close(fwd.wake)
        same = {n: exact(engine, node) for n, node in nodes.items()}
        return {
            "events": args.events,
            "db": engine.dialect.name,
            "nats": "users" if server.users else "open",
            "normal_events_per_s": args.events / normal_s,
            "repair_events_per_s": args.events / repair_s,
            "repair_s": repair_s,
            "grace_s": args.grace,
            "resent": resent,
            "ratio": normal_s / repair_s,
            "archive_exact": same,
        }
    finally:
        for n in nodes.values():
            n.close()
        engine.dispose()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--grace", type=float, default=5.0, help="repair grace of node and county (s)")
    ap.add_argument("--open-nats", action="store_true", help=OPEN_HELP)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tongxin-repair-") as tmp:
        if args.db == "sqlite":
            out = run(args, Path(tmp), f"sqlite:///{tmp}/county.db")
        else:
            import psycopg

            name = f"tongxin_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            try:
                out = run(args, Path(tmp), f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}")
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.json:
        print(json.dumps(out))
        return
    table = Table(
        title=f"Repair of a lost backlog ({out['db']}, {out['events']:,} events, NATS {out['nats']})"
    )
    for col in ("measurement", "value", "note"):
        table.add_column(col)
    table.add_row("normal: forward + ingest + receipt", f"{out['normal_events_per_s']:,.0f} events/s", "")
    table.add_row(
        "repair: detect + re-send + ingest",
        f"{out['repair_events_per_s']:,.0f} events/s",
        f"{out['repair_s']:.1f} s, grace {out['grace_s']} s",
    )
    table.add_row(
        "repair ÷ normal",
        f"{out['ratio']:.2f}",
        "the repair's rate over the normal path's (grace included)",
    )
    table.add_row("re-sent", f"{out['resent']:,}", "envelopes")
    table.add_row("archive = log exactly", str(out["archive_exact"]), "")
    Console().print(table)


if __name__ == "__main__":
    main()
