"""One ingest batch, one transaction: check and place in the node's chain → archive → project → commit.

The guarantees live beside this file: the chain placement (duplicates, the hold behind a gap,
the drain) in `placement`, refusals in `quarantine`, the county's receipts in `receipts`, the
node keys in `node_keys`, the pure checks in `checks`, PostgreSQL's statistics in `statistics`.
This only sequences them. The caller acknowledges the messages only after `process` has
returned, i.e. after the commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Connection, Engine

from services.county.db import tables as t
from services.county.db.bulk import insert_all
from services.county.ingest import entity_locks, position, quarantine, receipts
from services.county.ingest.checks import MAX_CLOCK_AHEAD, Checked, precheck
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.node_keys import KeyRegistry
from services.county.ingest.placement import Chains
from services.county.ingest.statistics import Statistics
from services.county.keys import CountySigning
from services.county.personal import erasure
from services.county.projections import corrections
from services.county.projections.fact import Fact
from services.county.projections.live import project
from services.county.projections.registry import entity_of
from shared import envelope
from shared.catalog.correction import CORRECTION_TYPES
from shared.catalog.member import MemberErased
from shared.receipt import Receipt
from shared.signing import Job, Signer, verify_all
from shared.wire import STREAM


class _KeysChanged(Exception):
    """A revocation was committed while a batch was being placed: the batch is placed again."""


class Ingestor:
    """Ingests batches; with a county `signer` it also issues a receipt for each node whose
    archived head advanced, stored with the batch and queued in `outbox` for publishing. A node
    clock more than `max_clock_ahead` ahead of the county's is refused (`clock_skew`)."""

    def __init__(
        self,
        engine: Engine,
        county_id: str,
        signer: Signer | CountySigning | None = None,
        *,
        max_clock_ahead: timedelta = MAX_CLOCK_AHEAD,
    ) -> None:
        self.engine = engine
        self.county_id = county_id
        self.signing = CountySigning(signer) if isinstance(signer, Signer) else signer
        """The county's keys as receipts are signed (the current one co-signed in an overlap)."""
        self.signer = self.signing.signer if self.signing is not None else None
        self.max_clock_ahead = max_clock_ahead
        self.keys = KeyRegistry(engine)
        self.counts: Counter[str] = Counter()
        self.outbox: list[Receipt] = []
        self._erased = 0
        """Members erased by the transaction under way (`personal.erasure`): scrubbed after it."""
        self.statistics = Statistics(engine) if engine.dialect.name == "postgresql" else None
        """PostgreSQL's statistics on the archive, refreshed beside the ingest."""
        self.positions: tuple[str, ...] = (STREAM,)
        """The ingest positions a batch advances: the stream's, or a worker's partitions'."""

    def prepare(
        self, batch: list[Incoming], verify: Callable[[list[Job]], list[bool]] = verify_all
    ) -> list[Incoming]:
        """The batch with each message's `precheck` (no database access), its signatures checked
        by `verify`: the consumer runs this in a worker thread for the next batch while `process`
        commits the current one, with a `VerifyPool` checking the signatures in another process."""
        todo = [item for item in batch if item.pre is None]
        pres = iter(precheck([item.data for item in todo], self.keys, verify))
        return [item if item.pre else replace(item, pre=next(pres)) for item in batch]

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        """Handle a batch in one transaction; raises (nothing committed) on a database failure.
        A revocation committed meanwhile rolls it back, and it is handled again on the new keys."""
        for _ in range(3):
            self._erased = 0
            try:
                with self.engine.begin() as conn:
                    chains = Chains(conn, self.county_id, self.keys, self.max_clock_ahead)
                    nodes = {item.pre.env.node_id for item in batch if item.pre is not None}
                    self.keys.hold(conn, nodes)
                    chains.preload(nodes)
                    outcomes = [chains.admit(item) for item in batch]
                    issued = self._archive_and_project(conn, chains, self.signing)
                    last = max((item.stream_seq for item in batch), default=0)
                    for key in self.positions:
                        position.advance(conn, key, last)
                    if not self.keys.current(conn):
                        raise _KeysChanged
            except _KeysChanged:
                self.keys.refresh()
                continue
            except BaseException:
                self.keys.refresh()  # forget key rotations of the rolled-back batch
                raise
            break
        else:
            raise RuntimeError("node keys revoked again and again while a batch was placed")
        self.outbox += issued
        self.counts.update(outcomes)
        if self._erased:
            erasure.scrub(self.engine)
        if self.statistics is not None:
            self.statistics.archived(sum(o is Outcome.ARCHIVED for o in outcomes))
        return outcomes

    def retry_quarantine(self, ids: list[int] | None = None) -> tuple[int, int]:
        """Re-process open quarantine rows (all, or those `ids`), e.g. after enrolling their node,
        in one transaction; returns (resolved, still quarantined). See `quarantine.retry`."""
        self.keys.refresh()
        self._erased = 0
        with self.engine.begin() as conn:
            self.keys.hold(conn, set(self.keys.keys))
            chains = Chains(conn, self.county_id, self.keys, self.max_clock_ahead)
            done = quarantine.retry(conn, chains.place, ids)
            self._archive_and_project(conn, chains, None)
            if not self.keys.current(conn):
                raise RuntimeError("a node key was revoked meanwhile: retry again")
        if self._erased:
            erasure.scrub(self.engine)
        return done

    def _archive_and_project(
        self, conn: Connection, chains: Chains, signer: CountySigning | None
    ) -> list[Receipt]:
        """Archive what `chains` accepted, project it, move the node heads and, with a `signer`,
        issue the receipts: the caller's transaction commits all of it at once."""
        facts, subjects, loose = _archive(conn, chains.accepted)
        if facts:
            held = entity_locks.subjects_to_hold(facts, subjects, loose)
            entity_locks.hold(conn, held)  # several workers: one derives an entity at a time
            project(conn, facts, subjects, loose)
            erased = [f.body.member_id for f in facts if isinstance(f.body, MemberErased)]
            self._erased += erasure.apply(conn, erased) if erased else 0
        chains.save_heads()
        return [] if signer is None else receipts.issue(conn, signer, self.county_id, chains.heads)


def _archive(
    conn: Connection, accepted: list[tuple[Checked, Incoming]]
) -> tuple[list[Fact], set[str], list[Fact]]:
    """Write the accepted envelopes to the archive in one statement; returns them as facts to
    project, with the subjects (members, orgs …) whose rows are to be re-derived and the
    corrections of events about no entity. A correction is filed under its target's subject."""
    rows: list[dict[str, object]] = []
    facts: list[Fact] = []
    subjects: set[str] = set()
    known = {(c.env.node_id, c.env.seq): entity_of(c.body) for c, _ in accepted}
    fixes = [
        Fact(c.env.node_id, c.env.seq, c.env.occurred_at, c.env.type, c.body)
        for c, _ in accepted
        if c.env.type in CORRECTION_TYPES
    ]
    filed = corrections.target_subjects(conn, fixes, known) if fixes else {}
    for c, item in accepted:
        env = c.env
        subject = (
            filed[(env.node_id, env.seq)]
            if (env.node_id, env.seq) in filed
            else known[(env.node_id, env.seq)]
        )
        rows.append(
            {
                "node_id": env.node_id,
                "seq": env.seq,
                "event_id": env.event_id,
                "type": env.type,
                "schema": env.schema,
                "subject": subject,
                "occurred_at": env.occurred_at,
                "recorded_at": env.recorded_at,
                "received_at": item.received_at,
                "hash": env.hash,
                "envelope": envelope.encode(env).decode(),
            }
        )
        facts.append(Fact(env.node_id, env.seq, env.occurred_at, env.type, c.body, env.event_id))
        if subject is not None:
            subjects.add(subject)
    insert_all(conn, t.archive, rows)
    loose = [f for f in fixes if filed[(f.node_id, f.seq)] is None]
    return facts, subjects, loose
