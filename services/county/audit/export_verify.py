"""Verifying an audit export (format: docs/audit.md) as the archive is verified, plus its manifest:
the SHA-256 of each file, each node's count, range and head, and the anchors of partial ranges."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from services.county.audit.export import FORMAT, VERSION
from services.county.audit.report import Anchor, Claim, Fault, Report, Row
from services.county.audit.verify import Audit
from shared import envelope, receipt
from shared.envelope import GENESIS_HASH, Hex64
from shared.errors import FieldError
from shared.signing import Verifier


class ExportFormatError(ValueError):
    """The file is not an export of this format (not a zip, no manifest, another format)."""


class _Key(msgspec.Struct):
    key_id: str
    public_key: Hex64


class _Anchor(_Key):
    seq: int
    hash: str


class _Node(msgspec.Struct):
    count: int
    first_seq: int
    last_seq: int
    head_hash: str
    first_key: _Key
    anchor: _Anchor
    archive_head_seq: int


class _File(msgspec.Struct):
    sha256: str


class _Manifest(msgspec.Struct):
    format: str
    version: int
    nodes: dict[str, _Node]
    files: dict[str, _File]
    county_id: str | None = None


class _Keys(msgspec.Struct):
    nodes: dict[str, _Key]
    county: _Key | None = None


def verify_export(
    path: Path,
    *,
    county_key: Verifier | None = None,
    node_claims: Iterable[Claim] = (),
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify an export: its files against the manifest, every node's chain from its anchor,
    where each ends, and county and node receipts. `county_key` defaults to keys.json's."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ExportFormatError(f"{path} is not a readable zip file ({exc})") from None
    with zf:
        reader = _Reader(zf)
        if reader.manifest is None:
            return Report({}, reader.faults)
        return reader.verify(county_key, list(node_claims), workers, progress)


class _Reader:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.faults: list[Fault] = []
        try:
            raw = zf.read("manifest.json")
            head = msgspec.json.decode(raw)
        except (KeyError, msgspec.DecodeError) as exc:
            raise ExportFormatError(f"not an audit export: no readable manifest.json ({exc})") from None
        if not isinstance(head, dict) or (head.get("format"), head.get("version")) != (FORMAT, VERSION):
            raise ExportFormatError(f"not a {FORMAT} version {VERSION} file")
        self.manifest: _Manifest | None = self._decode("manifest.json", raw, _Manifest)

    def problem(self, reason: str, node: str = "export", seq: int = 0) -> None:
        self.faults.append(Fault(node, seq, reason))

    def _decode(self, name: str, data: bytes, type_: Any) -> Any:
        try:
            return msgspec.json.decode(data, type=type_)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.problem(f"{name} is malformed ({exc})")
            return None

    def verify(
        self,
        county_key: Verifier | None,
        claims: list[Claim],
        workers: int,
        progress: Callable[[int], None] | None,
    ) -> Report:
        assert self.manifest is not None
        m = self.manifest
        for name in sorted(set(self.zf.namelist()) - {*m.files, "manifest.json"}):
            self.problem(f"{name} is not listed in manifest.json (added)")
        data = self._member("keys.json")
        keys: _Keys = (data and self._decode("keys.json", data, _Keys)) or _Keys(nodes={})
        first = {n: Verifier.from_hex(k.public_key) for n, k in keys.nodes.items()}
        notes: list[str] = []
        if county_key is None and keys.county is not None:
            county_key = Verifier.from_hex(keys.county.public_key)
            notes.append(f"county key {county_key.key_id} taken from the export's keys.json: check it")
        elif county_key is None:
            notes.append("receipt signatures not checked: no county key")
        anchors = {n: self._anchor(n, node, first.get(n)) for n, node in m.nodes.items()}
        audit = Audit(
            first,
            anchors={n: a for n, a in anchors.items() if a is not None},
            claims=self._receipts() + claims,
            county_key=county_key,
            county_id=m.county_id,
            workers=workers,
            where="export",
        )
        audit.run(self._rows(), progress)
        report = audit.finish(self._in_scope)
        for name, node in m.nodes.items():
            got = report.nodes.get(name)
            seen = (got.checked, got.head_seq, got.head_hash) if got else (0, 0, GENESIS_HASH)
            if seen != (node.count, node.last_seq, node.head_hash):
                said = f"{node.count} envelope(s) up to seq {node.last_seq} ({node.head_hash[:16]}…)"
                held = f"{seen[0]} up to seq {seen[1]} ({seen[2][:16]}…)"
                self.problem(f"manifest says {said}, the export holds {held}", name, node.last_seq)
        report.faults = sorted(report.faults + self.faults, key=lambda f: f.node_id)
        report.notes += notes
        return report

    def _member(self, name: str) -> bytes | None:
        try:
            data = self.zf.read(name)
        except KeyError:
            self.problem(f"{name} is missing")
            return None
        self._compare(name, hashlib.sha256(data).hexdigest())
        return data

    def _compare(self, name: str, sha256: str) -> None:
        assert self.manifest is not None
        listed = self.manifest.files.get(name)
        if listed is None or listed.sha256 != sha256:
            self.problem(f"{name} does not match its SHA-256 in manifest.json (altered)")

    def _anchor(self, name: str, node: _Node, first: Verifier | None) -> Anchor | None:
        a = node.anchor
        if first is None or first.key_id != node.first_key.key_id:
            self.problem("keys.json and manifest.json disagree on the node's first key", name, node.first_seq)
            return None
        key = Verifier.from_hex(a.public_key)
        if a.seq != node.first_seq - 1 or (
            a.seq == 0 and (a.hash, key.key_id) != (GENESIS_HASH, first.key_id)
        ):
            self.problem("the manifest's anchor does not fit the exported range", name, node.first_seq)
        return Anchor(a.seq, a.hash, key)

    def _receipts(self) -> list[Claim]:
        claims = []
        for number, line in enumerate((self._member("receipts.jsonl") or b"").splitlines(), 1):
            try:
                claims.append(Claim(receipt.decode(line), "county"))
            except FieldError as exc:
                self.problem(f"receipts.jsonl line {number} is not a receipt ({exc})")
        return claims

    def _rows(self, size: int = 5000) -> Iterator[list[Row]]:
        if "envelopes.jsonl" not in self.zf.namelist():
            self.problem("envelopes.jsonl is missing")
            return
        sha, batch = hashlib.sha256(), []
        with self.zf.open("envelopes.jsonl") as f:
            for number, line in enumerate(f, 1):
                sha.update(line)
                if (row := self._row(line.rstrip(b"\n"), number)) is not None:
                    batch.append(row)
                if len(batch) >= size:
                    yield batch
                    batch = []
        if batch:
            yield batch
        self._compare("envelopes.jsonl", sha.hexdigest())

    def _row(self, data: bytes, number: int) -> Row | None:
        try:
            env = envelope.decode(data)
            return Row(env.node_id, env.seq, data, env=env)
        except FieldError as exc:
            loose = _loose(data)
            if loose is None:
                self.problem(f"envelopes.jsonl line {number} is not an envelope ({exc})")
            return loose

    def _in_scope(self, name: str, seq: int) -> bool:
        """Receipts in the exported range count; above it only if the export reached the head."""
        assert self.manifest is not None
        node = self.manifest.nodes.get(name)
        return (
            node is not None
            and seq > node.anchor.seq
            and (seq <= node.last_seq or node.last_seq >= node.archive_head_seq)
        )


def _loose(data: bytes) -> Row | None:
    """Where an unreadable line claims to belong, if it is JSON with a node id and a seq."""
    try:
        value = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None
    node, seq = (value.get("node_id"), value.get("seq")) if isinstance(value, dict) else (None, None)
    return Row(node, seq, data) if isinstance(node, str) and isinstance(seq, int) else None
