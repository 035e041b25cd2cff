"""`tongxin node recover`: after a restore from a backup, take the county's copy of this chain back.

A node restored from an older backup lacks what it recorded after the backup and the county
archived; whatever it recorded since then took seqs the county already holds with other content
(a fork: the county's receipts show it, and forwarding stops). Recovery fetches the node's own
archived envelopes from the county (`ArchiveQuery`, signed by this node's key), verifies them
from seq 1 under this node's own first key — the county cannot slip in anything this node did not
sign — finds the first seq where the two histories differ, and in one transaction replaces the
log from there with the county's copy. The local events that collided are then recorded again,
after a `node.recovered` event that lists them, as new events with new seqs: nothing the clerk
typed is lost, and the collision stays in the chain for an auditor. A collided event that the
recovered history makes impossible (the member was already registered …) is not recorded but
written to a file in the data dir and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from services.branch_node.application import BatchError, NewEvent, member_of
from services.branch_node.domain import Recorded, member_aggregate_id
from services.branch_node.mapper import MsgspecMapper, decode_recorded
from services.branch_node.service import NodeService
from shared import envelope, repair
from shared.catalog import decode_payload
from shared.catalog.correction import RecordCorrected, RecordVoided
from shared.catalog.node import MAX_LISTED, Collided, NodeRecovered
from shared.errors import FieldError
from shared.private_files import write_private
from shared.transport import connect
from shared.wire import archive_subject


class RecoverError(RuntimeError):
    pass


@dataclass
class Plan:
    county_head: int
    fork_at: int | None
    """The first seq where this log and the county's copy differ; None if they do not."""
    restore: list[envelope.Envelope] = field(default_factory=list)
    """The county's envelopes from `fork_at` on."""
    collided: list[tuple[int, str, Recorded]] = field(default_factory=list)
    """This log's events from `fork_at` on: (seq, hash, event)."""


@dataclass
class Outcome:
    restored: int
    recorded_again: list[int]
    refused: list[tuple[int, str]]
    """(old seq, why) of collided events not recorded again."""
    refused_file: str | None = None


async def fetch(node: NodeService, nats_url: str, timeout: float = 10.0) -> list[bytes]:
    """This node's archived envelopes from the county, from seq 1, a page at a time."""
    nc = await connect(nats_url, identity=node.dir.nats_identity())
    subject = archive_subject(node.config.county_id, node.node_id)
    out: list[bytes] = []
    try:
        while True:
            query = repair.ArchiveQuery(node_id=node.node_id, after=len(out), at=repair.now_text())
            msg = await nc.request(subject, repair.encode(repair.sign(query, node.signer)), timeout=timeout)
            page = repair.decode_page(msg.data)
            if page.error is not None:
                raise RecoverError(f"the county refused: {page.error}")
            out += [text.encode() for text in page.envelopes]
            if not page.envelopes or len(out) >= page.head:
                return out
    finally:
        await nc.close()


def plan(node: NodeService, county_copy: list[bytes]) -> Plan:
    """Verify the county's copy under this node's own key and find where the histories part."""
    chain = node.chain_verifier()
    theirs: list[envelope.Envelope] = []
    for data in county_copy:
        env = envelope.decode(data)
        fault = chain.check(env)
        if fault is not None:
            raise RecoverError(f"the county's copy does not verify: {fault}")
        theirs.append(env)
    if chain.key is not None and theirs:
        try:
            node.dir.signer_for(chain.key.key_id)
        except FieldError:
            raise RecoverError(
                f"the county's copy ends signed by key {chain.key.key_id}, which this node does not hold "
                "(restored from a backup older than a key rotation): re-enrol this node with the county"
            ) from None
    ours = {seq: h for seq, h, _ in node.envelopes.rows_after(0, 10**9)}
    fork_at = next((e.seq for e in theirs if ours.get(e.seq) != e.hash), None)
    result = Plan(county_head=len(theirs), fork_at=fork_at)
    if fork_at is None:
        return result
    result.restore = theirs[fork_at - 1 :]
    notes = {n.id: n for n in node.log.notifications_after(fork_at - 1, 10**9)}
    result.collided = [
        (seq, h, decode_recorded(notes[seq].state)) for seq, h in sorted(ours.items()) if seq >= fork_at
    ]
    return result


def apply(node: NodeService, p: Plan) -> Outcome:
    """Replace the log from the fork with the county's copy, then record the collided events again."""
    if p.fork_at is None:
        return Outcome(restored=0, recorded_again=[], refused=[])
    _replace(node, p.fork_at, p.restore, p.county_head)
    listed = [
        Collided(seq=seq, hash=h, event_id=str(rec.event_id), type=_tag(rec))
        for seq, h, rec in p.collided[:MAX_LISTED]
    ]
    marker = NodeRecovered(
        recovered_to_seq=p.county_head,
        collided_from_seq=p.collided[0][0] if p.collided else None,
        collided_to_seq=p.collided[-1][0] if p.collided else None,
        collided=listed,
    )
    again = node.record([NewEvent(body=marker, occurred_at=datetime.now(UTC))])
    refused: list[tuple[int, str]] = []
    kept: list[dict[str, Any]] = []
    for seq, _h, rec in p.collided:
        try:
            again += node.record([NewEvent(body=rec.body, occurred_at=rec.occurred_at)])
        except (BatchError, FieldError) as exc:
            refused.append((seq, str(exc)))
            kept.append({"old_seq": seq, "why": str(exc), "event": msgspec.to_builtins(rec)})
    out = Outcome(restored=len(p.restore), recorded_again=again[1:], refused=refused)
    if kept:
        path = node.dir.path / f"recover-refused-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.jsonl"
        write_private(path, "".join(json.dumps(k, ensure_ascii=False) + "\n" for k in kept).encode())
        out.refused_file = str(path)
    return out


def _owner(conn: Any, body: Any, owners: dict[int, str | None]) -> str | None:
    """The member whose aggregate an event belongs to: a correction belongs to its target's (as
    `NodeLog` records it), read from the events restored so far or those kept below the fork."""
    if not isinstance(body, RecordCorrected | RecordVoided):
        return member_of(body)
    if body.target_seq in owners:
        return owners[body.target_seq]
    row = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (body.target_seq,)).fetchone()
    return member_of(decode_recorded(bytes(row[0])).body) if row else None


def _tag(rec: Recorded) -> str:
    return str(type(rec.body).__struct_config__.tag)


def _replace(node: NodeService, fork_at: int, restore: list[envelope.Envelope], head: int) -> None:
    mapper = MsgspecMapper()
    with node.envelopes.write() as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid >= ?", (fork_at,))
        conn.execute("DELETE FROM seals WHERE seq >= ?", (fork_at,))
        versions: dict[UUID, int] = {}
        owners: dict[int, str | None] = {}
        for env in restore:
            body = decode_payload(env.type, env.payload, env.schema)
            member_id = _owner(conn, body, owners)
            owners[env.seq] = member_id
            if member_id is None:
                originator, version = UUID(env.event_id), 1
            else:
                originator = member_aggregate_id(member_id)
                if originator not in versions:
                    row = conn.execute(
                        "SELECT max(originator_version) FROM stored_events WHERE originator_id = ?",
                        (originator.hex,),
                    ).fetchone()
                    versions[originator] = int(row[0] or 0)
                version = versions[originator] = versions[originator] + 1
            rec = Recorded(
                originator_id=originator,
                originator_version=version,
                timestamp=env.recorded,
                event_id=UUID(env.event_id),
                occurred_at=env.occurred,
                schema=env.schema,
                body=body,  # type: ignore[arg-type]
            )
            stored = mapper.to_stored_event(rec)
            conn.execute(
                "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state)"
                " VALUES (?, ?, ?, ?, ?)",
                (env.seq, originator.hex, version, stored.topic, stored.state),
            )
            conn.execute(
                "INSERT INTO seals VALUES (?, ?, ?, ?)",
                (env.seq, env.event_id, env.hash, envelope.encode(env)),
            )
        conn.execute("UPDATE forwarding SET forwarded_seq = ?", (head,))
