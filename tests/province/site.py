"""A province above its counties in one test process: a nats-server per county (its own JetStream
domain) joined to the province's server as a leafnode through a cuttable `Link`; each county's
real nodes (Forwarder), its real county ingest (Consumer, receipts on) on its own SQLite; the
province's ingest (ProvinceIngest) on its own SQLite per county. Node ids repeat across counties
(every county has a `dongguan`): the province keeps them apart by the county in the subject."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.loop import Loop
from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.forwarder import Forwarder
from services.branch_node.forwarding_state import Backoff
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.registry import enrol
from services.province.ingest import ProvinceIngest
from services.province.store import ProvinceStore
from shared.signing import Signer
from shared.streams import ensure_stream
from tests.county.helpers import record
from tests.province.link import Link
from tongxin.natsd import EmbeddedNats, Tls
from tongxin.natsd_province import ProvinceServers

TEST_STREAM_BYTES = 256 * 1024**2


class County:
    def __init__(
        self, root: Path, county_id: str, server: EmbeddedNats, link: Link, node_ids: tuple[str, ...]
    ):
        self.county_id, self.server, self.link = county_id, server, link
        self.key = Signer.generate()
        self.engine = make_engine(f"sqlite:///{root / 'county.db'}")
        migrate(self.engine)
        self.nodes: dict[str, NodeService] = {}
        for n in node_ids:
            config = NodeConfig(
                node_id=n, county_id=county_id, nats_url=server.url, county_public_key=self.key.public_key_hex
            )
            NodeDir(root / n).create(config)
            self.nodes[n] = NodeService(root / n)
        with self.engine.begin() as conn:
            for node in self.nodes.values():
                enrol(conn, node.node_id, node.first_key.public_key_hex)
        self.loops: list[tuple[Loop, Any]] = []

    def start(self) -> None:
        asyncio.run(ensure_stream(self.server.url))
        consumer = Consumer(
            Ingestor(self.engine, self.county_id, self.key), self.server.url, batch=200, ack_wait=5.0
        )
        self.loops.append((Loop(consumer.run), None))
        for node in self.nodes.values():
            fwd = Forwarder(node, self.server.url, backoff=Backoff(base=0.05, cap=0.5), repair_grace=1.0)
            self.loops.append((Loop(_forwarding(fwd)), fwd))

    def record(self, node_id: str, items: list[dict[str, Any]]) -> None:
        record(self.nodes[node_id], items)

    def archive(self) -> list[tuple[str, int, str]]:
        return archive_of(self.engine)

    def close(self) -> None:
        for loop, fwd in self.loops:
            loop.close(*([fwd.wake] if fwd is not None else []))
        self.loops = []
        for node in self.nodes.values():
            node.close()
        self.engine.dispose()


def _forwarding(fwd: Forwarder) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    return lambda stop: fwd.run(stop, idle_poll=0.05)


def archive_of(engine: Engine) -> list[tuple[str, int, str]]:
    a = t.archive.c
    with engine.connect() as conn:
        rows = conn.execute(select(a.node_id, a.seq, a.hash).order_by(a.node_id, a.seq))
        return [(n, int(s), h) for n, s, h in rows]


class Province:
    """`counties` × `nodes` under one province, every process and file under `root`; the leaf
    links over TLS given the province's certificate (`tls`) and its CA (`ca`), the province's
    server's monitoring on `http_port` if given (`ProvinceServers`)."""

    def __init__(
        self,
        root: Path,
        county_ids: tuple[str, ...],
        node_ids: tuple[str, ...],
        *,
        tls: Tls | None = None,
        ca: Path | None = None,
        http_port: int = 0,
    ) -> None:
        self.root = root
        self.servers = ProvinceServers(root / "nats", county_ids, tls=tls, ca=ca, http_port=http_port)
        self.servers.province.start()
        self.counties: dict[str, County] = {}
        self.store = ProvinceStore(f"sqlite:///{root / 'province'}/{{county}}.db", county_ids)
        self.ingest: Loop | None = None
        for cid in county_ids:
            link = Link(self.servers.leaf_port)
            server = self.servers.add_county(cid, link.port)
            server.start()
            county = County(root / cid, cid, server, link, node_ids)
            self.counties[cid] = county
            for node in county.nodes.values():  # the province's own enrolment of the county's nodes
                self.store.enrol(cid, node.node_id, node.first_key.public_key_hex)

    def start(self) -> ProvinceIngest:
        for county in self.counties.values():
            county.start()
        return self.start_ingest()

    def start_ingest(self) -> ProvinceIngest:
        ingest = ProvinceIngest(
            self.store,
            self.servers.province.url,
            identity=self.servers.identity,
            batch=300,
            ack_wait=5.0,
            max_bytes=TEST_STREAM_BYTES,
        )
        self.ingest = Loop(ingest.run)
        return ingest

    def stop_ingest(self) -> None:
        if self.ingest is not None:
            self.ingest.close()
            self.ingest = None

    def archive(self, county_id: str) -> list[tuple[str, int, str]]:
        return archive_of(self.store.engines[county_id])

    def close(self) -> None:
        self.stop_ingest()
        for county in self.counties.values():
            county.close()
            county.link.cut()
        self.store.close()
        self.servers.stop()
