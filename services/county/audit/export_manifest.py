"""An export's manifest as its verifier reads it, and the scope it claims: which receipts the
export must answer for, so that a cut is only a cut where the county-signed selection asked
for one (docs/audit.md §3.1, §3.5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import msgspec

from services.county.audit.export_plan import china_midnight
from services.county.audit.report import Fault
from shared.county_key import Handover
from shared.envelope import Hex64
from shared.receipt import Receipt


class Key(msgspec.Struct):
    key_id: str
    public_key: Hex64


class ManifestAnchor(Key):
    seq: int
    hash: str


class ManifestNode(msgspec.Struct):
    count: int
    first_seq: int
    last_seq: int
    head_hash: str
    first_key: Key
    anchor: ManifestAnchor
    archive_head_seq: int
    archive_head_hash: str | None = None
    """Version 2 on."""


class ManifestFile(msgspec.Struct):
    sha256: str


class Requested(msgspec.Struct):
    """The selection as it was asked for (export_plan.Selection.as_dict)."""

    nodes: list[str] | None = None
    """None (or empty): every node."""
    from_seq: int | None = None
    to_seq: int | None = None
    date_from: date | None = msgspec.field(default=None, name="from")
    date_to: date | None = msgspec.field(default=None, name="to")

    @property
    def bounded(self) -> bool:
        """Whether anything but the node set was asked for."""
        return (self.from_seq, self.to_seq, self.date_from, self.date_to) != (None, None, None, None)


class Manifest(msgspec.Struct):
    format: str
    version: int
    nodes: dict[str, ManifestNode]
    files: dict[str, ManifestFile]
    county_id: str | None = None
    created_at: str = ""
    selection: Requested = msgspec.field(default_factory=Requested)


class Reenrolled(Key):
    """A key the node was re-enrolled with after a revocation: it signs from `from_seq` on."""

    from_seq: int
    revoked_at: str = ""
    reason: str = ""


class NodeKeys(Key):
    """A node's first key, and the keys it was re-enrolled with (none: left out of keys.json)."""

    reenrolled: list[Reenrolled] = []


class Keys(msgspec.Struct):
    nodes: dict[str, NodeKeys]
    county: Key | None = None
    county_handovers: list[Handover] = []
    """The county key's handovers (none: left out of keys.json)."""


class Scope:
    """The receipts an export answers for. From a manifest whose signature verified: those the
    signed selection does not leave out. Otherwise nothing the manifest says grants a cut: every
    receipt above a node's anchor counts."""

    def __init__(self, manifest: Manifest, signed: bool) -> None:
        self.m, self.signed = manifest, signed
        sel = manifest.selection
        self.day_after = china_midnight(sel.date_to + timedelta(1)) if sel.date_to else None

    def __call__(self, r: Receipt) -> bool:
        m, sel = self.m, self.m.selection
        node = m.nodes.get(r.node_id)
        if not self.signed:
            return node is not None and r.seq > node.anchor.seq
        if node is not None and r.seq <= node.anchor.seq:
            return False
        if node is not None and r.seq <= node.last_seq:
            return True
        if r.issued_at > m.created_at:
            return False  # acknowledged after the export was made
        if node is None:  # a node the export leaves out: only where every node was asked for
            within = (sel.from_seq or 1) <= r.seq <= (sel.to_seq or r.seq)
            return not sel.nodes and sel.date_from is None and sel.date_to is None and within
        if sel.to_seq is not None:
            return r.seq <= sel.to_seq
        if self.day_after is not None:  # the county had it before the range ended: recorded in it
            return r.received_at < self.day_after
        return True

    def faults(self) -> Iterator[Fault]:
        """Where the signed manifest contradicts its own selection."""
        m, sel = self.m, self.m.selection
        if sel.nodes and sorted(set(sel.nodes)) != sorted(m.nodes):
            asked, listed = ", ".join(sorted(set(sel.nodes))), ", ".join(sorted(m.nodes))
            yield Fault("export", 0, f"the selection asks for nodes {asked}, the manifest lists {listed}")
        for name, node in sorted(m.nodes.items()):
            if sel.date_from is None and node.first_seq != (sel.from_seq or 1):
                yield Fault(
                    name,
                    node.first_seq,
                    f"the selection asks for seq {sel.from_seq or 1} on, "
                    f"the export starts at seq {node.first_seq}",
                )
            head = node.archive_head_seq
            end = head if sel.to_seq is None else min(sel.to_seq, head)
            by_seq = sel.date_from is None and sel.date_to is None
            if node.last_seq > head or (by_seq and node.last_seq != end):
                yield Fault(
                    name,
                    node.last_seq,
                    f"the selection asks for seqs up to {end} (the archive's head {head} when the "
                    f"export was made), the export ends at seq {node.last_seq}",
                )
            at_head = node.last_seq == head
            if at_head and node.archive_head_hash not in (None, node.head_hash):
                yield Fault(name, node.last_seq, "the export's head hash is not the archive head's it names")
