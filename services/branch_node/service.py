"""The node's service layer: record, sign, report status and verify, over one data dir."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from eventsourcing.persistence import IntegrityError

from services.branch_node.application import BatchError, NewEvent, NodeLog
from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.county_trust import CountyTrust
from services.branch_node.envelopes import EnvelopeStore
from services.branch_node.keystore import PERSONAL_FILE, KeyStore, Sealing
from services.branch_node.mapper import decode_recorded
from services.branch_node.receipts import Fork, ReceiptBook, ReceiptStatus
from shared import envelope
from shared.catalog.member import MemberDetailsUpdated, MemberRegistered
from shared.catalog.node import NodeKeyRotated
from shared.chain import ChainFault, ChainVerifier, single_key
from shared.errors import FieldError
from shared.signing import Signer, Verifier
from shared.wire import events_subject

_PERSONAL = (MemberRegistered, MemberDetailsUpdated)
"""The events that carry a member's `personal`, sealed before they are logged."""


class NodeStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Where the node's log stands against the county: "forwarded" means confirmed by a receipt.

    `last_seq` events are logged; JetStream acknowledged them up to `forwarded_seq` (sent); the
    county's newest receipt confirms them up to `confirmed_seq`. `waiting` = last − forwarded (not
    sent yet), `unconfirmed` = forwarded − confirmed (sent, the county's word still owed),
    `backlog` = last − confirmed (what the county does not hold yet): 0 means all reported.
    `fork` says why forwarding stopped, when the county holds a history this log does not."""

    node_id: str
    county_id: str
    key_id: str
    last_seq: int
    signed_seq: int
    forwarded_seq: int
    confirmed_seq: int
    waiting: int
    unconfirmed: int
    backlog: int
    last_ack_at: datetime | None
    last_receipt: ReceiptStatus | None = None
    fork: Fork | None = None
    county_keys: list[str] = []
    """The ids of the county keys this node checks receipts with; empty: receipts unchecked."""
    keys_undelivered: int = 0
    """Members' keys the county has not acknowledged yet (sent by `node serve` on the keys
    subject once a county key is configured)."""


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    faults: list[ChainFault]

    @property
    def ok(self) -> bool:
        return not self.faults


class NodeService:
    """One branch node, opened from its data dir: its log, its envelopes, its receipts."""

    def __init__(self, path: Path) -> None:
        self.dir = NodeDir(path)
        self.config: NodeConfig = self.dir.config()
        self.dir.make_private()
        self.first_key = self.dir.signer()
        self.keys = KeyStore(self.dir.path / PERSONAL_FILE)
        """The members' keys and this node's index of their ID numbers (personal.db)."""
        self.log = NodeLog(self.dir.log_path)
        self.envelopes = EnvelopeStore(self.dir.log_path)
        self.append_lock = threading.Lock()
        """Appends (and a rekey) within this process take turns."""
        self._signers: dict[str, Signer] = {}
        self.county_trust = CountyTrust(self.dir.path, self.config.county_public_key)
        self.receipts = ReceiptBook(self.envelopes, self.county_trust)

    @property
    def node_id(self) -> str:
        return self.config.node_id

    @property
    def subject(self) -> str:
        return events_subject(self.config.county_id, self.config.node_id)

    def close(self) -> None:
        self.envelopes.close()
        self.log.close()
        self.keys.close()

    def record(self, events: Sequence[NewEvent]) -> list[int]:
        """Append all or none (BatchError), then sign what was appended.

        Appends within this process take turns; if another process appended for the same
        member in between, the decision is taken again on the fresh history.
        """
        with self.append_lock:
            sealed, made = self._seal(events)
            try:
                try:
                    seqs = self.log.append(sealed)
                except IntegrityError:
                    seqs = self.log.append(sealed)
            except BaseException:
                self.keys.forget(made)
                raise
        self.sign_pending()
        return seqs

    def _seal(self, events: Sequence[NewEvent]) -> tuple[list[NewEvent], Sealing]:
        """Every clear `personal` sealed under its member's key, the keys committed to personal.db
        before any of it reaches the log; BatchError (nothing kept) if an ID number is already
        another member's here."""
        out: list[NewEvent] = []
        errors: list[tuple[int, FieldError]] = []
        with self.keys.sealing() as (made, sealer):
            for i, new in enumerate(events):
                body = new.body
                personal = getattr(body, "personal", None)
                if not isinstance(body, _PERSONAL) or personal is None or personal.sealed is not None:
                    out.append(new)
                    continue
                try:
                    sealed = sealer.seal(body.member_id, personal)
                except FieldError as exc:
                    errors.append((i, exc))
                    continue
                out.append(dataclasses.replace(new, body=msgspec.structs.replace(body, personal=sealed)))
            if errors:
                known = {i for i, _ in errors}
                errors += [(i, e) for i, e in self.log.check(events) if i not in known]
                raise BatchError(sorted(errors, key=lambda ie: ie[0]))
        return out, made

    @property
    def signer(self) -> Signer:
        """The key that signs this node's next envelope."""
        return self._signer_for(self.envelopes.signing_key_id(self.first_key.key_id))

    def sign_pending(self) -> int:
        """Chain and sign every logged event not signed yet; returns how many."""
        return self.envelopes.sign_pending(self.log, self._signer_for, self.first_key.key_id, self.node_id)

    def _signer_for(self, key_id: str) -> Signer:
        """A key this node holds, read from its file once (a key file never changes)."""
        found = self._signers.get(key_id)
        if found is None:
            found = self._signers[key_id] = self.dir.signer_for(key_id)
        return found

    def rotate_key(self) -> Signer:
        """Rotate the signing key inside the chain: a `node.key_rotated` event, signed by the
        current key, names the new one, which signs every later envelope."""
        with self.append_lock:
            self.sign_pending()
            new = self.dir.add_key()
            body = NodeKeyRotated(new_key_id=new.key_id, new_public_key=new.public_key_hex)
            self.log.append([NewEvent(body=body, occurred_at=datetime.now(UTC))])
        self.sign_pending()
        return new

    def status(self) -> NodeStatus:
        last = self.log.last_seq()
        signed, _ = self.envelopes.head()
        cursor = self.envelopes.cursor()
        sent = min(cursor.forwarded_seq, last)
        confirmed = min(self.receipts.confirmed(), last)
        return NodeStatus(
            node_id=self.node_id,
            county_id=self.config.county_id,
            key_id=self.signer.key_id,
            last_seq=last,
            signed_seq=signed,
            forwarded_seq=sent,
            confirmed_seq=confirmed,
            waiting=last - sent,
            unconfirmed=max(sent - confirmed, 0),
            backlog=last - confirmed,
            last_ack_at=cursor.last_ack_at,
            last_receipt=self.receipts.last(),
            fork=self.receipts.fork(),
            county_keys=[k.key_id for k in self.county_trust.trusted()],
            keys_undelivered=self.keys.count_undelivered(),
        )

    def chain_verifier(self) -> ChainVerifier:
        """A verifier of this node's chain: from its first key, following its rotations and the
        keys it was given after a revocation (`rekey`)."""
        rekeyed = {
            seq: Verifier(self._signer_for(k).public_key) for seq, k in self.envelopes.rekeys().items()
        }
        return ChainVerifier(self.node_id, single_key(Verifier(self.first_key.public_key)), enrolled=rekeyed)

    def verify(self, chunk: int = 5000) -> VerifyReport:
        """Check the signed chain and signatures, and that each envelope matches the logged event."""
        chain = self.chain_verifier()
        faults: list[ChainFault] = []
        seq = 0
        while batch := self.envelopes.after(seq, chunk):
            notes = {n.id: n for n in self.log.notifications_after(seq, chunk)}
            for seq, data in batch:
                env = envelope.decode(data)
                fault = chain.check(env)
                if fault is None:
                    fault = _matches_log(env, notes.get(seq))
                if fault is not None:
                    faults.append(fault)
                    chain.resume_after(env)
        return VerifyReport(checked=seq, faults=faults)


def _matches_log(env: envelope.Envelope, note: object) -> ChainFault | None:
    if note is None:
        return ChainFault(env.node_id, env.seq, "signed but missing from the log")
    rec = decode_recorded(note.state)  # type: ignore[attr-defined]
    if str(rec.event_id) != env.event_id or envelope.format_time(rec.timestamp) != env.recorded_at:
        return ChainFault(env.node_id, env.seq, "the log's event differs from its envelope")
    if msgspec.json.decode(env.payload) != msgspec.to_builtins(rec.body):
        return ChainFault(env.node_id, env.seq, "the log's payload differs from its envelope")
    return None
