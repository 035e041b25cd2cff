"""Twenty-one branch nodes and the county on a three-server JetStream cluster (R3, with users):
what tests/cluster builds on.

The nodes and the county are `tests.repair.site.Site` given the cluster's three URLs (each
Forwarder and the county's Consumer on an event loop of its own, in a thread, as the repair tests
and the benches run them); each node is let in with its own NATS key, the county connects with its
seed. `Recorder` records at every node in rounds from a thread of its own; `Progress` notes when
each ingested batch committed, to report the longest pause in ingest."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.county_mix import node_ids
from services.county.audit.archive import verify_archive
from services.county.audit.report import Claim
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from shared.signing import Verifier
from shared.wire import RECEIPTS_STREAM, STREAM
from tests.county.helpers import count
from tests.repair.site import COUNTY_KEY, Site, wait_until
from tests.samples import fund
from tongxin.natsd_cluster import EmbeddedCluster, cluster

NODES = tuple(node_ids(21))
PER_ROUND = 3
"""Events each node records per round."""
GRACE = 5.0
"""Repair grace of both sides: longer than the repair tests' (21 nodes share two cores)."""


@dataclass
class Progress:
    """When each batch the county ingested committed (monotonic seconds), and its size."""

    batches: list[tuple[float, int]] = field(default_factory=list)

    def __call__(self, n: int) -> None:
        self.batches.append((time.monotonic(), n))

    @property
    def messages(self) -> int:
        return sum(n for _, n in list(self.batches))

    def since(self, moment: float) -> int:
        return sum(n for t, n in list(self.batches) if t > moment)

    def longest_pause(self, start: float, end: float) -> float:
        """The longest time between `start`, the batches from then on, and `end`, with no batch."""
        times = [start, *(t for t, _ in list(self.batches) if start < t < end), end]
        return max(b - a for a, b in itertools.pairwise(times))


def record_round(site: Site, r: int) -> None:
    """Round `r`: `PER_ROUND` events at every node (each forwarder woken)."""
    for node in site.nodes:
        site.record(node, [fund(r * PER_ROUND + i, org=node) for i in range(PER_ROUND)])


class Recorder:
    """Records `PER_ROUND` events at every node per round, `rounds` rounds, in a thread; with
    `hold_at`, it stops before that round (`held` set) until `go` is set, so that a test acts
    with half the events recorded and records the rest right after."""

    def __init__(self, site: Site, rounds: int, hold_at: int | None = None) -> None:
        self.site, self.rounds, self.hold_at = site, rounds, hold_at
        self.done_rounds = 0
        self.held, self.go = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for r in range(self.rounds):
                if r == self.hold_at:
                    self.held.set()
                    self.go.wait()
                record_round(self.site, r)
                self.done_rounds = r + 1
        except BaseException as exc:  # reported by join()
            self.error = exc

    def start(self) -> Recorder:
        self.thread.start()
        return self

    def join(self, timeout: float = 300.0) -> None:
        self.go.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the recorder did not finish"
        if self.error is not None:
            raise self.error

    @property
    def per_node(self) -> int:
        return self.rounds * PER_ROUND


@contextlib.contextmanager
def county_on_cluster(root: Path) -> Iterator[tuple[EmbeddedCluster, Site, Progress]]:
    """The cluster (streams R3), the 21 nodes let in, the county ingesting; all stopped after."""
    engine = make_engine(f"sqlite:///{root / 'county.db'}")
    migrate(engine)
    try:
        with cluster(root / "nats") as c:
            s = Site(root / "nodes", c.url, engine, NODES, county_identity=c.identity("county"), grace=GRACE)
            try:
                for node_id, node in s.nodes.items():
                    key = node.dir.nats_key()
                    assert key is not None
                    c.allow_node("jx", node_id, key)
                progress = Progress()
                s.start_county().on_batch.append(progress)
                for node_id in NODES:
                    s.start_node(node_id)
                yield c, s, progress
                # the county's consumer brought the streams to its config: their replicas kept
                assert c.replicas(STREAM) == c.replicas(RECEIPTS_STREAM) == len(c.servers)
            finally:
                s.close()
    finally:
        engine.dispose()


def archived(s: Site) -> int:
    """How many envelopes the county's archive holds."""
    return count(s.engine, t.archive)


def wait_all_archived(s: Site, total: int, timeout: float = 600.0) -> None:
    """Until the archive holds `total` envelopes and every node's log equals its archive exactly,
    with its receipt covering its head (counted first: one cheap query while ingest runs)."""
    wait_until(lambda: archived(s) >= total, timeout, f"{total} envelopes archived")
    s.wait_converged(timeout=timeout)


def assert_exactly_once(s: Site, per_node: int) -> None:
    """Every node's every event in the archive once: counts per node, its log = its archive
    (seq, hash), and the county's own audit of the archive (chains, signatures, the county's
    receipts and the nodes' own) finds nothing."""
    for node_id, node in s.nodes.items():
        archived = s.archive_of(node_id)
        assert len(archived) == per_node == node.log.last_seq(), node_id
        assert archived == s.log_of(node_id), node_id
    claims = [Claim(r, "node") for node in s.nodes.values() for r in node.receipts.all()]
    with s.engine.connect() as conn:
        report = verify_archive(
            conn,
            sorted(s.nodes),
            county_key=Verifier(COUNTY_KEY.public_key),
            county_id="jx",
            node_claims=claims,
        )
    assert report.ok, report.faults[:5]
    assert report.checked == per_node * len(s.nodes)
    for node_id in s.nodes:
        assert report.nodes[node_id].head_seq == per_node
