"""Audit exports: a zip of chosen nodes' envelopes, keys and county receipts that an auditor
verifies offline (format: docs/audit.md) — written from the archive, verified like the archive,
its manifest signed by the county key (export_signature.py)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec
from sqlalchemy import Connection, select

from services.county.audit import revoked
from services.county.audit.archive import chunks, first_keys, key_rows
from services.county.audit.export_plan import (
    CountyMismatchError,
    Selection,
    SelectionError,
    UnknownNodeError,
    check_county,
    plan,
)
from services.county.audit.export_signature import SIGNATURE, sign_manifest
from services.county.audit.report import Anchor
from services.county.db import tables as t
from services.county.keys import handovers
from services.county.reenrolment import reenrolled, revocations
from shared import envelope, receipt
from shared.chain import ROTATION, rotated_key
from shared.envelope import GENESIS_HASH
from shared.errors import FieldError
from shared.private_files import private_file
from shared.receipt import Receipt
from shared.signing import Signer, Verifier

FORMAT, VERSION = "tongxin-audit-export", 2
"""Version 2 signs the manifest (manifest.sig) and states each node's archive head hash."""
MEMBERS = ("envelopes.jsonl", "receipts.jsonl", "keys.json")
"""The files that manifest.json lists with their SHA-256."""
__all__ = ["BrokenArchiveError", "CountyMismatchError", "Selection", "SelectionError", "UnknownNodeError"]


class BrokenArchiveError(FieldError):
    """The archive cannot anchor the selection: its chain is broken before the exported range."""


def anchor(
    conn: Connection,
    node: str,
    first_seq: int,
    first_key: Verifier,
    enrolled: dict[int, Verifier] | None = None,
) -> Anchor:
    """The hash before `first_seq` and the key the chain designates there (following every
    `node.key_rotated` before it, each checked under the key it replaces, and each key the node
    was re-enrolled with after a revocation, from its seq)."""
    if first_seq == 1:
        return Anchor(0, GENESIS_HASH, first_key)  # a key re-enrolled from seq 1 on is in keys.json
    a = t.archive.c
    key = first_key
    rotations = select(a.seq, a.envelope).where(a.node_id == node, a.type == ROTATION, a.seq < first_seq)
    pending = sorted((s, k) for s, k in (enrolled or {}).items() if s <= first_seq)
    for seq, text in conn.execute(rotations.order_by(a.seq)):
        while pending and pending[0][0] <= seq:
            key = pending.pop(0)[1]
        env = envelope.decode(text.encode())
        if not (
            env.key_id == key.key_id and envelope.hash_matches(env) and envelope.signature_valid(env, key)
        ):
            raise BrokenArchiveError(
                "from_seq", f"the chain of {node} is broken at seq {env.seq}: run `tongxin audit verify`"
            )
        key = rotated_key(env)
    if pending:
        key = pending[-1][1]
    query = select(a.envelope).where(a.node_id == node, a.seq == first_seq - 1)
    before = conn.execute(query).scalar_one_or_none()
    if before is None:
        raise BrokenArchiveError("from_seq", f"the archive lacks seq {first_seq - 1} of {node}")
    return Anchor(first_seq - 1, envelope.decode(before.encode()).hash, key)


def write_export(
    conn: Connection,
    sel: Selection,
    out: Path,
    *,
    county_id: str | None,
    county_key: Signer | None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the export zip to `out` (through a temporary file), its manifest signed by
    `county_key`; returns the manifest. Refuses a county id or key the archive's receipts
    were not issued under (CountyMismatchError)."""
    ranges = plan(conn, sel)
    if county_key is None:
        raise SelectionError("county_key", "an export is signed by the county key: give --county-key PATH")
    check_county(conn, county_id, county_key)
    keys = first_keys(key_rows(conn, ranges))
    lifecycle = revoked.present(conn)
    enrolled = reenrolled(conn, list(ranges)) if lifecycle else {}
    receipts = _receipts(conn, ranges, county_id)
    nodes: dict[str, dict[str, Any]] = {}
    files: dict[str, dict[str, Any]] = {}
    if unkeyed := sorted(set(ranges) - set(keys)):
        raise BrokenArchiveError("nodes", f"node {unkeyed[0]!r} has no enrolled key")
    part = out.with_name(out.name + ".part")
    part.unlink(missing_ok=True)
    private_file(part)  # the zip holds personal data: 0600 from the start
    try:
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as zf:
            with zf.open("envelopes.jsonl", "w", force_zip64=True) as f, _Hashed(f) as sink:
                for node, (first, last) in ranges.items():
                    start = anchor(conn, node, first, keys[node], enrolled.get(node))
                    nodes[node] = _write_node(conn, sink, node, first, last, keys[node], start, progress)
                    nodes[node]["receipts"] = sum(r.node_id == node for r in receipts)
                files["envelopes.jsonl"] = sink.summary()
            lines = b"".join(receipt.encode(r) + b"\n" for r in receipts)
            files["receipts.jsonl"] = _write(zf, "receipts.jsonl", lines)
            extra = _lifecycle(conn, list(ranges)) if lifecycle else ({}, [])
            keys_json = _keys_json(county_id, county_key, keys, ranges, *extra)
            files["keys.json"] = _write(zf, "keys.json", keys_json)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "county_id": county_id,
                "created_at": envelope.format_time(datetime.now(UTC)),
                "selection": sel.as_dict(),
                "nodes": nodes,
                "totals": {
                    "nodes": len(nodes),
                    "envelopes": sum(n["count"] for n in nodes.values()),
                    "receipts": len(receipts),
                },
                "files": files,
            }
            data = _json(manifest)
            zf.writestr("manifest.json", data)
            zf.writestr(SIGNATURE, sign_manifest(county_key, data))
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(out)
    return manifest


def _lifecycle(conn: Connection, nodes: list[str]) -> tuple[dict[str, list[dict[str, Any]]], list[Any]]:
    """Each node's re-enrolments (from revocations, with their keys) and the county's handovers."""
    keys = {(n, k.key_id): k.public_key for n, ks in key_rows(conn, nodes).items() for k in ks}
    again: dict[str, list[dict[str, Any]]] = {}
    for r in revocations(conn, nodes):
        if r["new_key_id"] is not None:
            again.setdefault(r["node_id"], []).append(
                {
                    "from_seq": r["from_seq"],
                    "key_id": r["new_key_id"],
                    "public_key": keys[(r["node_id"], r["new_key_id"])],
                    "revoked_at": r["revoked_at"],
                    "reason": r["reason"],
                }
            )
    return again, [msgspec.to_builtins(h) for h in handovers(conn)]


def _keys_json(
    county_id: str | None,
    county_key: Signer,
    keys: dict[str, Verifier],
    nodes: Iterable[str],
    again: dict[str, list[dict[str, Any]]] | None = None,
    county_handovers: list[Any] | None = None,
) -> bytes:
    """keys.json: each node's first key (and, after a revocation, the keys it was re-enrolled
    with), the county key (and its handovers); what an export has none of is left out."""
    county = {
        "county_id": county_id,
        "key_id": county_key.key_id,
        "public_key": county_key.public_key.hex(),
    }
    first: dict[str, dict[str, Any]] = {}
    for n in nodes:
        first[n] = {"key_id": keys[n].key_id, "public_key": keys[n].public_key.hex()}
        if again and again.get(n):
            first[n]["reenrolled"] = again[n]
    body: dict[str, Any] = {"county": county, "nodes": first}
    if county_handovers:
        body["county_handovers"] = county_handovers
    return _json(body)


def _write_node(
    conn: Connection,
    sink: _Hashed,
    node: str,
    first: int,
    last: int,
    key: Verifier,
    start: Anchor,
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    count, tail = 0, b""
    for rows in chunks(conn, [node], first=first, last=last):
        for row in rows:
            sink.write(row.data + b"\n")
        count, tail = count + len(rows), rows[-1].data
        if progress is not None:
            progress(len(rows))
    head = envelope.decode(tail)
    a = t.archive.c
    newest = select(a.seq, a.hash).where(a.node_id == node).order_by(a.seq.desc()).limit(1)
    archive_head = conn.execute(newest).one()
    return {
        "count": count,
        "first_seq": first,
        "last_seq": head.seq,
        "head_hash": head.hash,
        "first_key": {"key_id": key.key_id, "public_key": key.public_key.hex()},
        "anchor": {
            "seq": start.seq,
            "hash": start.hash,
            "key_id": start.key.key_id,
            "public_key": start.key.public_key.hex(),
        },
        "archive_head_seq": int(archive_head.seq),
        "archive_head_hash": str(archive_head.hash),
    }


def _receipts(conn: Connection, ranges: dict[str, tuple[int, int]], county_id: str | None) -> list[Receipt]:
    r = t.receipts.c
    found: list[Receipt] = []
    for node, (first, last) in ranges.items():
        query = select(t.receipts).where(r.node_id == node, r.seq >= first, r.seq <= last).order_by(r.seq)
        for row in conn.execute(query).mappings():
            if county_id is None:
                raise SelectionError(
                    "county_id", "the archive holds county receipts: give the county id to export them"
                )
            found.append(Receipt(county_id=county_id, **row))
    return found


class _Hashed:
    """A writable that keeps the SHA-256 and size of what went through it."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.sha, self.size = f, hashlib.sha256(), 0

    def __enter__(self) -> _Hashed:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.sha.update(data)
        self.size += len(data)

    def summary(self) -> dict[str, Any]:
        return {"sha256": self.sha.hexdigest(), "bytes": self.size}


def _write(zf: zipfile.ZipFile, name: str, data: bytes) -> dict[str, Any]:
    zf.writestr(name, data)
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
