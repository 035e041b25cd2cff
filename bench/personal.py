"""What sealing a member's personal data costs a node (issue 15): the seal itself, the key store's
write, a registration recorded alone, and the key's delivery to the county.

    python -m bench.personal [--members N] [--open-nats] [--json]

Measures and prints; never asserts. A temp dir with its own embedded nats-server (with its users
unless `--open-nats`: the node as itself, the county as county) and a SQLite county database.

- `shared.personal.seal` alone: XChaCha20-Poly1305 of the canonical JSON, a fresh key per member;
- `KeyStore.seal`, one transaction per registration (index entry + key, `synchronous=FULL`):
  what a registration recorded on its own (`POST /api/v1/events`) pays;
- `KeyStore.sealing()`, N registrations in one transaction: what `NodeService.record` of a batch pays;
- `NodeService.record` of one event at a time: registrations (sealed) against `fund.received`
  (nothing to seal), both fresh nodes;
- key delivery: `KeyCourier.run` against the county's responder (`serve_keys`: open the KeyDelivery,
  check the node's signature, wrap and store the key, answer a signed KeyAck) until every key is
  acknowledged, and, one key at a time, the request-reply alone (`delivery` → `nc.request` →
  `check_ack` → `keys.delivered`) for its percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console

from bench.county_mix import business, registration
from bench.county_steps import pct
from bench.nats_users import OPEN_HELP, BenchNats
from bench.node import Row, failed, machine, result, show
from services.branch_node.application import NewEvent
from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.inputs import parse_item
from services.branch_node.key_delivery import KeyCourier, check_ack, delivery, newest_county_key
from services.branch_node.service import NodeService
from services.county.db.engine import make_engine, migrate
from services.county.keys import CountySigning
from services.county.personal.master import MasterKey
from services.county.personal.responder import serve_keys
from services.county.personal.store import KeyStore
from services.county.registry import enrol
from shared.catalog.base import Personal
from shared.personal import MemberKey, seal
from shared.signing import Signer
from shared.transport import connect
from shared.wire import keys_subject
from tests.ids import GIVEN

err = Console(stderr=True)
ORG = "os-01"
TITLE = "Tongxin: sealing personal data at a node"


def registrations(g0: int, n: int) -> list[NewEvent]:
    return [parse_item(registration(g0 + g, ORG, 20), GIVEN) for g in range(n)]


def personal_of(ev: NewEvent) -> tuple[str, Personal]:
    body: Any = ev.body
    return str(body.member_id), body.personal


def new_node(root: Path, name: str, url: str, county: Signer | None = None) -> NodeService:
    key = None if county is None else county.public_key_hex
    NodeDir(root / name).create(NodeConfig(node_id=name, county_id="jx", nats_url=url, county_public_key=key))
    return NodeService(root / name)


def per(n: int, seconds: float) -> tuple[float, str]:
    return seconds / n * 1e6, f"{n / seconds:,.0f}/s over {n:,}"


def bench_seal(root: Path, bus: BenchNats, args: argparse.Namespace) -> list[Row]:
    n = args.members
    pairs = [personal_of(ev) for ev in registrations(0, n)]
    t = time.perf_counter()
    for member_id, personal in pairs:
        seal(personal, MemberKey.new(), member_id)
    crypto = per(n, time.perf_counter() - t)
    node = new_node(root, "seal-one", bus.url)
    try:
        single = pairs[: args.single]
        t = time.perf_counter()
        for member_id, personal in single:
            node.keys.seal(member_id, personal)
        one = per(len(single), time.perf_counter() - t)
    finally:
        node.close()
    node = new_node(root, "seal-batch", bus.url)
    try:
        t = time.perf_counter()
        for s in range(0, n, 1000):
            with node.keys.sealing() as (_, sealer):
                for member_id, personal in pairs[s : s + 1000]:
                    sealer.seal(member_id, personal)
        batch = per(n, time.perf_counter() - t)
    finally:
        node.close()
    us = "µs/member"
    return [
        Row("shared.personal.seal alone (crypto + JSON)", crypto[0], us, note=crypto[1]),
        Row("KeyStore.seal, a transaction each (fsync)", one[0], us, note=one[1]),
        Row("KeyStore.sealing(), 1,000 a transaction", batch[0], us, note=batch[1]),
    ]


def bench_record_one(root: Path, bus: BenchNats, args: argparse.Namespace) -> list[Row]:
    n = args.single
    regs = registrations(10**6, n)
    funds = [parse_item(business(0, i, ORG, lambda k: []), GIVEN) for i in range(n)]
    out: list[Row] = []
    for name, events in (("registration (sealed)", regs), ("fund.received (nothing sealed)", funds)):
        node = new_node(root, f"one-{len(out)}", bus.url)
        try:
            t = time.perf_counter()
            for ev in events:
                node.record([ev])
            took = per(n, time.perf_counter() - t)
        finally:
            node.close()
        out.append(Row(f"NodeService.record([1]): {name}", took[0] / 1000, "ms/event", note=took[1]))
    assert out[0].value is not None and out[1].value is not None
    extra = out[0].value - out[1].value
    return [*out, Row("  a registration's extra", extra, "ms/event", note="the difference")]


def bench_delivery(root: Path, bus: BenchNats, args: argparse.Namespace) -> list[Row]:
    county = Signer.generate()
    engine = make_engine(f"sqlite:///{root / 'county.db'}")
    migrate(engine)
    node = new_node(root, ORG, bus.url, county)
    bus.allow(root / ORG)
    with engine.begin() as conn:
        enrol(conn, node.node_id, node.signer.public_key_hex)
    store = KeyStore(MasterKey.load_or_create(root / "county-personal.key"))
    try:
        return asyncio.run(_deliver(node, bus, engine, county, store, args))
    finally:
        node.close()
        engine.dispose()


def _make_keys(node: NodeService, g0: int, n: int) -> None:
    for s in range(0, n, 1000):
        with node.keys.sealing() as (_, sealer):
            for ev in registrations(g0 + s, min(1000, n - s)):
                sealer.seal(*personal_of(ev))


async def _deliver(
    node: NodeService, bus: BenchNats, engine: Any, county: Signer, store: KeyStore, args: argparse.Namespace
) -> list[Row]:
    responder_nc = await connect(bus.url, identity=bus.county)
    sub = await serve_keys(responder_nc, engine, "jx", CountySigning(county), store)
    try:
        _make_keys(node, 2 * 10**6, args.single)  # one at a time: each request-reply timed alone
        trusted = newest_county_key(node.county_trust.trusted())
        assert trusted is not None
        nc = await connect(bus.url, identity=node.dir.nats_identity())
        subject, ms = keys_subject("jx", node.node_id), []
        try:
            for key in node.keys.undelivered():
                t = time.perf_counter()
                reply = await nc.request(
                    subject, msgspec.json.encode(delivery(node, key, trusted)), timeout=5
                )
                check_ack(reply.data, node, key.key_id)
                node.keys.delivered(key.key_id)
                ms.append((time.perf_counter() - t) * 1000)
        finally:
            await nc.close()
        n = args.members
        _make_keys(node, 3 * 10**6, n)  # then the courier, as `node serve` runs it
        courier, stop = KeyCourier(node, bus.url, idle_poll=0.01), asyncio.Event()
        t = time.perf_counter()
        task = asyncio.create_task(courier.run(stop))
        while courier.delivered < n and not task.done() and time.perf_counter() - t < args.timeout:
            await asyncio.sleep(0.005)
        took = time.perf_counter() - t
        stop.set()
        await task
    finally:
        await sub.unsubscribe()
        await responder_nc.close()
    who = "node as itself, county as county" if bus.users else "NATS open"
    done = courier.delivered
    note = f"{done:,}/{n:,} keys, {done / took:,.0f}/s, connect included"
    p50, p95, p99 = (pct(ms, p) for p in (50, 95, 99))
    return [
        Row("key round trip, one at a time: p50", p50, "ms/key", note=f"{len(ms):,} keys; {who}"),
        Row("  p95 / p99", p95, "ms/key", note=f"p99 {p99:.2f} ms"),
        Row("KeyCourier.run until all acknowledged", took / max(done, 1) * 1000, "ms/key",
            ok=None if done == n else False, note=note),
    ]  # fmt: skip


STEPS = (
    ("sealing", bench_seal),
    ("recording one event at a time", bench_record_one),
    ("key delivery to the county", bench_delivery),
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.personal", description=__doc__.split("\n")[0])
    ap.add_argument(
        "--members", type=int, default=10_000, help="registrations sealed, keys delivered (10,000)"
    )
    ap.add_argument("--single", type=int, default=500, help="one-transaction-each runs (500)")
    ap.add_argument("--timeout", type=float, default=300.0, help="for the courier (300 s)")
    ap.add_argument("--open-nats", action="store_true", help=OPEN_HELP)
    ap.add_argument("--json", action="store_true", help="write the results as JSON to stdout")
    args = ap.parse_args(argv)
    info = machine()
    info["nats"] = "open (--open-nats)" if args.open_nats else "users"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tongxin-bench-personal-") as tmp:
        bus = BenchNats(Path(tmp) / "nats", open_access=args.open_nats)
        try:
            bus.start()
            for i, (name, step) in enumerate(STEPS, 1):
                err.print(f"{i}/{len(STEPS)} {name}")
                (Path(tmp) / f"s{i}").mkdir()
                try:
                    rows += step(Path(tmp) / f"s{i}", bus, args)
                except Exception as exc:  # report it, go on with the next step
                    rows.append(failed(name, exc))
        finally:
            bus.stop()
    if args.json:
        show(rows, info, err, TITLE)
        params = {k: v for k, v in vars(args).items() if k != "json"}
        out = {"machine": info, "params": params, "results": [result(r) for r in rows]}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        show(rows, info, Console(), TITLE)


if __name__ == "__main__":
    main()
