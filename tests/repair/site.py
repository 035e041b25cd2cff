"""A county and its nodes in one test process, with receipts and repair on: real nats-server,
real SQLite or PostgreSQL, the node's Forwarder and the county's Consumer each on its own event
loop in a thread, short grace periods. What the cases of issue 12 are built on."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.loop import Loop
from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.signing import Signer
from tests.conftest import make_node_dir
from tests.county.helpers import enrol_nodes, record

COUNTY_KEY = Signer.from_seed_hex("c1" * 32)
GRACE = 1.0


class Site:
    def __init__(
        self,
        root: Path,
        url: str,
        engine: Engine,
        node_ids: tuple[str, ...] = ("dongguan",),
        *,
        county_identity: NatsIdentity = ANONYMOUS,
        grace: float = GRACE,
        node_url: str | None = None,
    ) -> None:
        """`url`: one server, or a cluster's comma-separated; `county_identity`: how the county
        connects (its seed, on a server with users); `grace`: both sides' repair grace;
        `node_url`: where the nodes connect, when not to `url` (an outstation's leaf server)."""
        self.root, self.url, self.engine = root, url, engine
        self.node_url = node_url or url
        self.county_identity, self.grace = county_identity, grace
        self.nodes = {
            n: NodeService(make_node_dir(root / n, n, self.node_url, COUNTY_KEY.public_key_hex))
            for n in node_ids
        }
        enrol_nodes(engine, *self.nodes.values())
        self.forwarders: dict[str, tuple[Forwarder, Loop]] = {}
        self.county: tuple[Consumer, Loop] | None = None

    def close(self) -> None:
        for node_id in list(self.forwarders):
            self.stop_node(node_id)
        self.stop_county()
        for node in self.nodes.values():
            node.close()

    # --- the county -------------------------------------------------------------------------------

    def start_county(self) -> Consumer:
        consumer = Consumer(
            Ingestor(self.engine, "jx", COUNTY_KEY),
            self.url,
            batch=200,
            ack_wait=5.0,
            repair_grace=self.grace,
            identity=self.county_identity,
        )
        self.county = (consumer, Loop(consumer.run))
        return consumer

    def stop_county(self) -> None:
        if self.county is not None:
            self.county[1].close()
            self.county = None

    # --- the nodes --------------------------------------------------------------------------------

    def start_node(self, node_id: str) -> Forwarder:
        fwd = Forwarder(
            self.nodes[node_id], self.node_url, backoff=Backoff(base=0.05, cap=0.5), repair_grace=self.grace
        )
        self.forwarders[node_id] = (fwd, Loop(lambda stop: fwd.run(stop, idle_poll=0.05)))
        return fwd

    def stop_node(self, node_id: str) -> None:
        fwd, loop = self.forwarders.pop(node_id)
        loop.close(fwd.wake)

    def reopen(self, node_id: str) -> NodeService:
        """Open the node's data dir again (after its files were replaced)."""
        self.nodes[node_id].close()
        self.nodes[node_id] = NodeService(self.root / node_id)
        return self.nodes[node_id]

    def record(self, node_id: str, items: list[dict[str, Any]]) -> None:
        record(self.nodes[node_id], items)
        if node_id in self.forwarders:
            fwd, loop = self.forwarders[node_id]
            loop.loop.call_soon_threadsafe(fwd.wake.set)

    # --- what each side holds ---------------------------------------------------------------------

    def log_of(self, node_id: str) -> list[tuple[int, str]]:
        return [(s, h) for s, h, _ in self.nodes[node_id].envelopes.rows_after(0, 10**9)]

    def archive_of(self, node_id: str) -> list[tuple[int, str]]:
        a = t.archive.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(a.seq, a.hash).where(a.node_id == node_id).order_by(a.seq))
            return [(int(s), h) for s, h in rows]

    def converged(self, node_id: str) -> bool:
        st = self.nodes[node_id].status()
        return self.archive_of(node_id) == self.log_of(node_id) and st.backlog == 0 and st.fork is None

    def wait_converged(self, *node_ids: str, timeout: float = 60.0) -> float:
        """Seconds until every node's archive equals its log exactly and its receipt covers its head."""
        start = time.monotonic()
        wait_until(lambda: all(self.converged(n) for n in node_ids or self.nodes), timeout, "convergence")
        for n in node_ids or self.nodes:
            assert self.archive_of(n) == self.log_of(n), f"{n}: archive = log, exactly"
        return time.monotonic() - start


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextlib.contextmanager
def site(root: Path, url: str, engine: Engine, node_ids: tuple[str, ...] = ("dongguan",)) -> Iterator[Site]:
    s = Site(root, url, engine, node_ids)
    try:
        yield s
    finally:
        s.close()
