"""What an audit reports: faults, each node's summary, and the rows, anchors and receipt claims it
is fed (shared by `audit verify` of the archive and of an export)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from shared.envelope import GENESIS_HASH, Envelope
from shared.receipt import Receipt
from shared.signing import Verifier

COLUMNS = ("seq", "hash", "event_id", "type", "schema", "occurred_at", "recorded_at")
"""The archive columns that copy an envelope's fields; each must equal the envelope's own."""


@dataclass(frozen=True, order=True)
class Fault:
    node_id: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.node_id} {self.seq or '-'} {self.reason}"


@dataclass(frozen=True)
class Anchor:
    """Where a node's checked range starts: the seq and hash before it, the key that signs next."""

    seq: int
    hash: str
    key: Verifier


class Row(NamedTuple):
    """One stored envelope; `columns` are the archive's copies of its COLUMNS (None in an export),
    `env` the envelope if the reader decoded it already, `problem` what the reader found wrong
    with its text (a fault at its node and seq), `link` the hash an undecodable one states (the
    chain goes on from it, so that one altered line is one fault)."""

    node_id: str
    seq: int
    data: bytes
    columns: tuple[Any, ...] | None = None
    env: Envelope | None = None
    problem: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Claim:
    """A receipt to check and where it came from: `county` or `node` (with the file)."""

    receipt: Receipt
    source: str


@dataclass(frozen=True)
class ChainKey:
    """A key the chain designates, from `from_seq` on (until the next one's)."""

    key_id: str
    public_key: str
    from_seq: int


@dataclass
class NodeSummary:
    node_id: str
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    keys: list[ChainKey] = field(default_factory=list)
    """The keys the chain designates, the anchor's (normally the first enrolled) first."""
    receipts: int = 0
    faults: int = 0


@dataclass
class Report:
    nodes: dict[str, NodeSummary]
    faults: list[Fault]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def checked(self) -> int:
        return sum(n.checked for n in self.nodes.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "nodes": [asdict(n) for n in sorted(self.nodes.values(), key=lambda n: n.node_id)],
            "faults": [asdict(f) for f in self.faults],
            "notes": self.notes,
        }
