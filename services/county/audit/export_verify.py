"""Verifying an audit export (format: docs/audit.md) as the archive is verified, plus its manifest:
first the county's signature on it, then the SHA-256 of each file, each node's count, range and
head, the anchors of partial ranges, and the receipts the signed selection holds it to."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from services.county.audit.export import FORMAT, VERSION
from services.county.audit.export_manifest import Keys, Manifest, ManifestNode, Scope
from services.county.audit.export_signature import SIGNATURE, signature_problem
from services.county.audit.report import Anchor, Claim, Fault, Report, Row
from services.county.audit.strict_json import claimed, repeated_key
from services.county.audit.verify import Audit
from shared import envelope, receipt
from shared.county_key import CountyKeys
from shared.envelope import GENESIS_HASH, Envelope
from shared.errors import FieldError
from shared.signing import Verifier

VERSIONS = range(1, VERSION + 1)
"""Version 1 exports (unsigned) are still read: their missing signature is a fault."""


class ExportFormatError(ValueError):
    """The file is not an export of this format (not a zip, no manifest, another format)."""


def verify_export(
    path: Path,
    *,
    county_key: Verifier | None = None,
    node_claims: Iterable[Claim] = (),
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify an export: the manifest's signature, its files, every node's chain from its anchor,
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


def _strict(name: str, data: bytes) -> str | None:
    key = repeated_key(data)
    return None if key is None else f"{name} repeats the key {key!r} in one object (not strict JSON)"


class _Reader:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.faults: list[Fault] = []
        self.first: list[Fault] = []
        """The manifest's signature: reported before anything else."""
        try:
            self.raw = zf.read("manifest.json")
            head = msgspec.json.decode(self.raw)
        except (KeyError, ValueError, RecursionError, msgspec.DecodeError) as exc:
            raise ExportFormatError(f"not an audit export: no readable manifest.json ({exc})") from None
        if not isinstance(head, dict) or head.get("format") != FORMAT or head.get("version") not in VERSIONS:
            raise ExportFormatError(f"not a {FORMAT} file of version 1 to {VERSION}")
        if problem := _strict("manifest.json", self.raw):
            self.problem(problem)
        self.manifest: Manifest | None = self._decode("manifest.json", self.raw, Manifest)

    def problem(self, reason: str, node: str = "export", seq: int = 0) -> None:
        self.faults.append(Fault(node, seq, reason))

    def _decode(self, name: str, data: bytes, type_: Any) -> Any:
        try:
            return msgspec.json.decode(data, type=type_)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError) as exc:
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
        for name in sorted(set(self.zf.namelist()) - {*m.files, "manifest.json", SIGNATURE}):
            self.problem(f"{name} is not listed in manifest.json (added)")
        data = self._member("keys.json")
        if data and (problem := _strict("keys.json", data)):
            self.problem(problem)
        keys: Keys = (data and self._decode("keys.json", data, Keys)) or Keys(nodes={})
        first = {n: Verifier.from_hex(k.public_key) for n, k in keys.nodes.items()}
        enrolled = {
            n: {r.from_seq: Verifier.from_hex(r.public_key) for r in k.reenrolled}
            for n, k in keys.nodes.items()
        }
        notes = [
            f"{n}: re-enrolled with key {r.key_id} from seq {r.from_seq} after its keys were revoked "
            f"at {r.revoked_at} ({r.reason})"
            for n, k in sorted(keys.nodes.items())
            for r in k.reenrolled
        ]
        if county_key is None and keys.county is not None:
            county_key = Verifier.from_hex(keys.county.public_key)
            notes.append(f"county key {county_key.key_id} taken from the export's keys.json: check it")
        elif county_key is None:
            notes.append("receipt signatures not checked: no county key")
        county = None if county_key is None else CountyKeys([county_key], keys.county_handovers)
        scope = Scope(m, self._signed(county))
        if scope.signed:
            self.faults += scope.faults()
        anchors = {n: self._anchor(n, node, first.get(n)) for n, node in m.nodes.items()}
        audit = Audit(
            first,
            anchors={n: a for n, a in anchors.items() if a is not None},
            claims=self._receipts() + claims,
            county_key=county,
            county_id=m.county_id,
            workers=workers,
            where="export",
            enrolled={n: e for n, e in enrolled.items() if e},
        )
        audit.run(self._rows(), progress)
        report = audit.finish(scope)
        for name, node in m.nodes.items():
            got = report.nodes.get(name)
            seen = (got.checked, got.head_seq, got.head_hash) if got else (0, 0, GENESIS_HASH)
            if seen != (node.count, node.last_seq, node.head_hash):
                said = f"{node.count} envelope(s) up to seq {node.last_seq} ({node.head_hash[:16]}…)"
                held = f"{seen[0]} up to seq {seen[1]} ({seen[2][:16]}…)"
                self.problem(f"manifest says {said}, the export holds {held}", name, node.last_seq)
        report.faults = self.first + sorted(report.faults + self.faults, key=lambda f: f.node_id)
        report.notes += notes
        return report

    def _signed(self, county_key: CountyKeys | None) -> bool:
        """Whether the county key signed these manifest bytes; if not, the first fault says why."""
        assert self.manifest is not None
        version = self.manifest.version
        if version < 2:
            problem: str | None = (
                f"manifest.json is not signed (a version {version} export): its ranges, heads and "
                "selection are the exporter's word only"
            )
        else:
            signature = self.zf.read(SIGNATURE) if SIGNATURE in self.zf.namelist() else None
            problem = signature_problem(signature, self.raw, county_key)
        if problem is not None:
            self.first.append(Fault("export", 0, problem))
        return problem is None

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

    def _anchor(self, name: str, node: ManifestNode, first: Verifier | None) -> Anchor | None:
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
        """receipts.jsonl, one receipt a line: lines end at `\\n` only (a receipt's text holds no
        line break, but U+2028 and its kin are no line ends in JSON Lines)."""
        claims = []
        lines = (self._member("receipts.jsonl") or b"").split(b"\n")
        for number, line in enumerate(lines[:-1] if lines[-1] == b"" else lines, 1):
            try:
                r = receipt.decode(line)
            except (ValueError, RecursionError) as exc:  # FieldError, or what msgspec lets through
                self.problem(f"receipts.jsonl line {number} is not a receipt ({exc})")
                continue
            if line != receipt.encode(r) and (problem := _strict(f"receipts.jsonl line {number}", line)):
                self.problem(problem, r.node_id, r.seq)
                continue
            claims.append(Claim(r, "county"))
        return claims

    def _rows(self, size: int = 5000, block: int = 1 << 20) -> Iterator[list[Row]]:
        """envelopes.jsonl's lines (ending at b"\\n" alone), `size` at a time, read a block at a
        time: iterating a zip member line by line costs ~5 µs a line, splitting blocks ~3 µs."""
        if "envelopes.jsonl" not in self.zf.namelist():
            self.problem("envelopes.jsonl is missing")
            return
        sha, batch, number, rest = hashlib.sha256(), [], 0, b""
        with self.zf.open("envelopes.jsonl") as f:
            while data := f.read(block):
                sha.update(data)
                lines = (rest + data).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    number += 1
                    if (row := self._row(line, number)) is not None:
                        batch.append(row)
                if len(batch) >= size:
                    yield batch
                    batch = []
        if rest and (row := self._row(rest, number + 1)) is not None:
            batch.append(row)
        if batch:
            yield batch
        self._compare("envelopes.jsonl", sha.hexdigest())

    def _row(self, data: bytes, number: int) -> Row | None:
        where = f"envelopes.jsonl line {number}"
        try:
            env = envelope.decode(data)
        except (ValueError, RecursionError) as exc:  # a FieldError, or what msgspec lets through
            said = claimed(data)
            if said is None:
                self.problem(f"{where} is not an envelope ({exc})")
                return None
            problem = f"{where} is not a valid envelope (altered): {said.no_text or exc}"
            return Row(said.node_id, said.seq, data, problem=problem, link=said.hash)
        if data == envelope.encode(env) and _canonical_payload(env):
            return Row(env.node_id, env.seq, data, env=env)  # canonical: no key can repeat
        return Row(env.node_id, env.seq, data, env=env, problem=_strict(where, data))


def _canonical_payload(env: Envelope) -> bool:
    try:
        return env.payload == msgspec.Raw(envelope.canonical(envelope.payload_tree(env.payload)))
    except FieldError:
        return False
