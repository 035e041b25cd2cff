"""Parallel ingest: the county's nodes in a fixed number of partitions, each worker its share.

A node belongs to partition `slot mod P`, its slot being its place in the order of enrolment
(`nodes.slot`: 0, 1, 2 …; P = `PARTITIONS`, a setting: the same on every worker of a county,
changed only with the workers stopped). Worker w of W owns the partitions p with p mod W == w,
and so every node's whole chain: checking, placing and archiving a node stay in one process, in
stream order, exactly as with one ingest. Each worker reads through a durable pull consumer of
its own (`county-<county>-w<w>of<W>`) whose FilterSubjects are the events subjects of the
enrolled nodes it owns (built from the `nodes` table; a newly enrolled node is added by the
worker that owns it, which recreates its consumer from that node's first message in the stream —
see `durable`). The ingest position is kept per partition (`<stream>.p<p>`): a worker resumes
from the lowest of its partitions' positions, and a partition with no position yet starts at the
one-process position (moving from one ingest to W workers re-reads nothing).

Why slots rather than a hash of the node id: a county has tens of nodes, and a hash spreads a few
unevenly (the bench's 21 nodes fell 14 and 7 to 2 workers, 8, 4, 6 and 3 to 4), while
consecutive slots deal them out in turn (11 and 10; 6, 5, 5 and 5): the slowest worker, which
sets the pace, has at most one node more than any other when W divides P. A node's slot is
given once, at its enrolment, and never changes, so its chain stays with one worker as before;
and since the slots live in the one database, every worker reads the same ones and agrees on who
owns what.

Why FilterSubjects rather than NATS subject mapping (`partition(P, …)`): a mapping changes the
subject a message is stored under, which every check that ties a node to its subject
(`subject_mismatch`), the gap watcher's last-message lookup and the node permissions would have
to learn; FilterSubjects leave the stream, the nodes and their permissions as they are.
Why a static share rather than leases: a worker killed with `kill -9` loses nothing (what it
had not committed was not acked, and JetStream redelivers it) and its share resumes when its
supervisor (systemd's `Restart=always`) starts it again; no two workers ever own a partition, so
no claim can go wrong. Entities touched from nodes of several partitions (a member who moved, a
cross post) are serialised by `entity_locks` in the database.

Messages of a node that is not enrolled are read by no worker until it is (one ingest
quarantines them as `unknown_node`): it has no slot, so no worker owns it; enrolling it brings
them in from the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from services.county.db import tables as t
from shared.wire import STREAM, events_subject

PARTITIONS = 16
"""Partitions of a county's nodes: at most this many workers share its ingest."""


def partition_of(slot: int, partitions: int = PARTITIONS) -> int:
    """The partition of the node in enrolment slot `slot` (`nodes.slot`)."""
    return slot % partitions


class ShareError(ValueError):
    """A worker number or count that cannot be."""


@dataclass
class Share:
    """Worker `worker` of `workers`: the partitions, nodes, consumer and positions it owns."""

    worker: int
    workers: int
    partitions: int = PARTITIONS
    slots: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    """The enrolled nodes' slots as `nodes` last read them: what `owns` goes by."""

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= self.partitions:
            raise ShareError(f"workers: between 1 and the {self.partitions} partitions, not {self.workers}")
        if not 0 <= self.worker < self.workers:
            raise ShareError(f"worker: between 0 and {self.workers - 1}, not {self.worker}")

    def owned(self) -> list[int]:
        return [p for p in range(self.partitions) if p % self.workers == self.worker]

    def owns(self, node_id: str) -> bool:
        """Whether the node is this worker's; a node not enrolled (no slot) is no worker's."""
        slot = self.slots.get(node_id)
        return slot is not None and partition_of(slot, self.partitions) % self.workers == self.worker

    def consumer_name(self, county_id: str) -> str:
        return f"county-{county_id}-w{self.worker}of{self.workers}"

    def position_keys(self) -> list[str]:
        return [position_key(p) for p in self.owned()]

    def nodes(self, engine: Engine) -> list[str]:
        """The enrolled nodes this worker owns, sorted, their slots read afresh (a node enrolled
        since the last read is owned from now on)."""
        with engine.connect() as conn:
            self.slots = {n: int(s) for n, s in conn.execute(select(t.nodes.c.node_id, t.nodes.c.slot))}
        return sorted(n for n in self.slots if self.owns(n))

    def subjects(self, engine: Engine, county_id: str) -> list[str]:
        return [events_subject(county_id, n) for n in self.nodes(engine)]


def position_key(partition: int) -> str:
    return f"{STREAM}.p{partition}"
