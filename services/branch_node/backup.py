"""A node's data dir backed up while `node serve` may be writing to it, and restored from such a backup.

log.db is copied through SQLite's online backup API in one step, so the copy is the log as one
read transaction saw it (WAL lets the node keep appending meanwhile): whole batches, never half a
one. personal.db (the members' keys, `keystore`) is copied the same way, after the log: a key is
committed there before the event sealed under it is logged, so every sealed personal of the copied
log opens with the copied keys. The files beside them keep their modes, for their owner alone (every
file 0600, the data dir and keys/ 0700; a looser mode left by an older version is narrowed in the
backup and on restore). The signing keys are copied after the log too: a rotation saves its new key
before it logs the event naming it, so every key the copied log names is in the copy. A
county.secret of a node made before random member ids is never read, and not copied.

A restored log may be behind what the county holds of this node (the node recorded and forwarded
more after the backup). The county's receipts then name seqs this log lacks — a fork in
`node status` — and `tongxin node recover` fetches the county's copy back.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import msgspec

from services.branch_node.clerk import CLERK_FILE
from services.branch_node.config import (
    CONFIG_FILE,
    KEY_FILE,
    KEYS_DIR,
    LOG_FILE,
    SECRET_FILE,
    NodeDir,
    NodeNotFoundError,
)
from services.branch_node.county_trust import TRUST_FILE
from services.branch_node.keystore import PERSONAL_FILE
from services.branch_node.lock import NodeBusyError, exclusive
from shared import backup as b
from shared.envelope import GENESIS_HASH
from shared.errors import FieldError
from shared.nats_identity import SEED_FILE
from shared.private_files import PRIVATE_DIR, narrowed

KIND = "node"
PLAIN_FILES = (CONFIG_FILE, KEY_FILE)
"""Copied as they are, beside log.db and personal.db (which go through the backup API) and keys/."""
LEGACY_FILES = (SECRET_FILE,)
"""What an older backup may list and a restore puts back, though no node reads it any more."""
OPTIONAL_FILES = (CLERK_FILE, SEED_FILE, TRUST_FILE)
"""Copied as they are when the node has them: the clerk's password hash and bearer-token digests
(a restored node signs its clerk and its programs in as before), the NATS seed (a restored node
connects as the user the county enrolled, not as a stranger NATS refuses) and the county keys it
trusts (added with `node county-key add` or adopted at a rotation: without them a restored node
would check receipts against the key in node.json alone)."""


class NodeManifest(msgspec.Struct, frozen=True, kw_only=True):
    """backup.json of a node's backup."""

    format: int = b.FORMAT
    kind: str = KIND
    created_at: str
    node_id: str
    county_id: str
    last_seq: int
    """Events in the copied log."""
    signed_seq: int
    """Envelopes signed in the copy (an event logged but not signed yet is signed on restore,
    deterministically: the same log and key give the same envelope)."""
    head_hash: str
    """The hash of the envelope at signed_seq (64 zeros when none)."""
    forwarded_seq: int
    """How far JetStream had acknowledged the copied log's envelopes."""
    dirs: dict[str, str]
    """The data dir (`.`) and keys/ with their modes."""
    files: list[b.BackupFile]


@dataclass(frozen=True)
class Restored:
    manifest: NodeManifest
    data_dir: Path
    replaced: Path | None
    """Where the node that was in the data dir was moved (with --force), or None."""


def backup(data_dir: Path, out: Path) -> NodeManifest:
    """Copy a node's data dir into the new directory `out` (mode 0700), with its manifest."""
    node = NodeDir(data_dir)
    try:
        config = node.config()
    except (NodeNotFoundError, FieldError) as exc:
        raise b.BackupError(str(exc)) from None
    for name in (*PLAIN_FILES, LOG_FILE):
        if not (data_dir / name).is_file():
            raise b.BackupError(f"{data_dir} has no {name}: not a complete node data dir")
    with b.new_backup_dir(out) as building:
        b.copy_sqlite(node.log_path, building / LOG_FILE)
        names = [LOG_FILE]
        if (data_dir / PERSONAL_FILE).is_file():  # after the log: every key its events name
            b.copy_sqlite(data_dir / PERSONAL_FILE, building / PERSONAL_FILE)
            names.append(PERSONAL_FILE)
        present = [name for name in OPTIONAL_FILES if (data_dir / name).is_file()]
        for name in (*PLAIN_FILES, *present):
            b.copy_file(data_dir / name, building / name, (data_dir / name).stat().st_mode)
        names += [*PLAIN_FILES, *present]
        dirs = {".": b.octal(narrowed(data_dir.stat().st_mode))}
        keys = data_dir / KEYS_DIR
        if keys.is_dir():
            dirs[KEYS_DIR] = b.octal(narrowed(keys.stat().st_mode))
            (building / KEYS_DIR).mkdir(mode=PRIVATE_DIR)
            for key in sorted(keys.glob("*.key")):
                b.copy_file(key, building / KEYS_DIR / key.name, key.stat().st_mode)
                names.append(f"{KEYS_DIR}/{key.name}")
        last_seq, signed_seq, head_hash, forwarded = _log_position(building / LOG_FILE)
        manifest = NodeManifest(
            created_at=b.now(),
            node_id=config.node_id,
            county_id=config.county_id,
            last_seq=last_seq,
            signed_seq=signed_seq,
            head_hash=head_hash,
            forwarded_seq=forwarded,
            dirs=dirs,
            files=[b.describe(building, name) for name in names],
        )
        b.write_manifest(building, manifest)
    return manifest


def _log_position(log_path: Path) -> tuple[int, int, str, int]:
    """(last seq, signed seq, head hash, forwarded seq) of a copied log.db, read-only."""
    conn = sqlite3.connect(f"{log_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        last = conn.execute("SELECT coalesce(max(rowid), 0) FROM stored_events").fetchone()[0]
        head = conn.execute("SELECT seq, hash FROM seals ORDER BY seq DESC LIMIT 1").fetchone()
        forwarded = conn.execute("SELECT forwarded_seq FROM forwarding").fetchone()
    except sqlite3.Error as exc:
        raise b.BackupError(f"{LOG_FILE}: not a node's log ({exc})") from None
    finally:
        conn.close()
    signed, head_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    return int(last), signed, head_hash, int(forwarded[0]) if forwarded else 0


def read(source: Path) -> NodeManifest:
    """A node backup's manifest, its files checked against it."""
    manifest = b.read_manifest(source, KIND, NodeManifest)
    paths = {f.path for f in manifest.files}
    if missing := sorted({LOG_FILE, *PLAIN_FILES} - paths):
        raise b.BackupError(f"{source}/{b.MANIFEST} lists no {', '.join(missing)}: not a node backup")
    known = {LOG_FILE, PERSONAL_FILE, *PLAIN_FILES, *OPTIONAL_FILES, *LEGACY_FILES}
    if odd := sorted(p for p in paths - known if not _is_key_file(p)):
        raise b.BackupError(f"{source}/{b.MANIFEST} lists files a node backup does not hold: {odd}")
    b.check_files(source, manifest.files)
    return manifest


def _is_key_file(path: str) -> bool:
    sub, _, name = path.partition("/")
    return sub == KEYS_DIR and name.endswith(".key") and "/" not in name and name != ".key"


def restore(source: Path, data_dir: Path, *, force: bool = False) -> Restored:
    """Put a node backup back into `data_dir`, every file checked against the manifest first.

    A data dir that is not empty is refused, unless `force`: it is then moved aside to
    `<data dir>.replaced-<time>`, never deleted, holding the data dir's lock (so never while
    `node serve` runs on it). The new data dir is built beside it and renamed into place, so it is
    either the whole backup or untouched."""
    manifest = read(source)
    occupied = data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir()))
    if occupied and not force:
        what = "holds a node" if NodeDir(data_dir).exists() else "is not empty"
        raise b.BackupError(
            f"{data_dir} {what}; pass --force to move it aside ({data_dir.name}.replaced-<time>, "
            "nothing is deleted) and restore the backup in its place"
        )
    lock = exclusive(data_dir, "restore") if occupied and data_dir.is_dir() else nullcontext()
    try:
        with lock, b.staging_beside(data_dir) as staging:
            built = staging / "node"
            _build(source, manifest, built)
            replaced = None
            if occupied:
                replaced = b.move_aside(data_dir)
            elif data_dir.exists():
                data_dir.rmdir()  # empty
            os.rename(built, data_dir)
    except NodeBusyError as exc:
        raise b.BackupError(str(exc)) from None
    return Restored(manifest=manifest, data_dir=data_dir, replaced=replaced)


def _build(source: Path, manifest: NodeManifest, built: Path) -> None:
    """The backup's files, with their modes for their owner alone (a backup of a node made by an
    older version may list 0644: restored 0600), in the new directory `built`, checked again there."""
    built.mkdir(mode=PRIVATE_DIR)
    if KEYS_DIR in manifest.dirs or any(f.path.startswith(f"{KEYS_DIR}/") for f in manifest.files):
        mode = narrowed(int(manifest.dirs.get(KEYS_DIR, "0700"), 8))
        (built / KEYS_DIR).mkdir(mode=mode)
        os.chmod(built / KEYS_DIR, mode)
    for entry in manifest.files:
        b.copy_file(source / entry.path, built / entry.path, int(entry.mode, 8))
    b.check_files(built, manifest.files)
    b.to_wal(built / LOG_FILE)
    if (built / PERSONAL_FILE).is_file():
        b.to_wal(built / PERSONAL_FILE)
    os.chmod(built, narrowed(int(manifest.dirs.get(".", "0700"), 8)))
