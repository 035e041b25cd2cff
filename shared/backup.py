"""What a node's backup and the county's have in common: a new directory, complete or absent, whose
manifest (backup.json) names each file with its SHA-256, size and mode; SQLite copied through its
online backup API; every file checked against the manifest before anything is restored; and what
a restore replaces moved aside, never deleted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import msgspec

from shared.private_files import PRIVATE_DIR, narrowed, private_file, private_parents

MANIFEST = "backup.json"
FORMAT = 1
"""The manifest's format; a restore refuses a backup of a format it does not know."""
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup cannot be taken or restored; the message says why and what to do."""


class BackupFile(msgspec.Struct, frozen=True, kw_only=True):
    """One file of a backup, as the manifest lists it."""

    path: str
    """Relative to the backup's directory, with `/` between parts (e.g. `keys/65b6….key`)."""
    sha256: str
    size: int
    mode: str
    """Its permission bits in octal (`0600`), given back to it by a restore."""


class _Kind(msgspec.Struct, kw_only=True):
    format: int
    kind: str


M = TypeVar("M", bound=msgspec.Struct)


def now() -> str:
    """The time for a manifest's created_at: UTC, to the second (`2026-11-27T01:25:05Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def octal(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def describe(root: Path, relative: str) -> BackupFile:
    """The manifest's entry for a file already in the backup."""
    path = root / relative
    return BackupFile(
        path=relative, sha256=sha256_of(path), size=path.stat().st_size, mode=octal(path.stat().st_mode)
    )


def copy_file(source: Path, target: Path, mode: int) -> None:
    """Copy to a new file created with `mode` for its owner alone (0644 → 0600: never readable by
    others, not even for a moment), synced to disk."""
    mode = narrowed(mode)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, _CHUNK)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(target, mode)  # the umask may have narrowed it


def copy_sqlite(source: Path, target: Path) -> None:
    """An online copy of a SQLite database through its backup API, in one step: the copy is the
    database as one read transaction saw it, while other connections (WAL) keep committing. The
    copy is made 0600 before SQLite opens it, then given the source's mode for its owner alone.

    The copy is left in rollback-journal mode, one self-contained file that opens anywhere, even
    read-only; `to_wal` puts a restored copy back in WAL mode."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    try:
        private_file(target)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # pages=-1: every page in one step, one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(target, narrowed(source.stat().st_mode))
    with target.open("rb") as f:
        os.fsync(f.fileno())


def to_wal(path: Path) -> None:
    """Put a restored SQLite file back in WAL mode (as its owner's connections keep it)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


@contextmanager
def new_backup_dir(out: Path) -> Iterator[Path]:
    """A directory to fill, which becomes `out` (mode 0700) only once the block has completed: a
    backup that failed half-way leaves no `out` behind, only the error."""
    if out.exists() or out.is_symlink():
        raise BackupError(f"{out} already exists: a backup goes into a new directory; choose another --out")
    private_parents(out)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))  # mode 0700
    try:
        yield building
        os.chmod(building, PRIVATE_DIR)
        os.rename(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def write_manifest(root: Path, manifest: msgspec.Struct) -> None:
    data = msgspec.json.format(msgspec.json.encode(manifest)) + b"\n"
    fd = os.open(root / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_manifest(root: Path, kind: str, type_: type[M]) -> M:
    """The backup's manifest, refused clearly if it is missing, unreadable or of another kind."""
    path = root / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"{root} is not a backup: it has no {MANIFEST}") from None
    except NotADirectoryError:
        raise BackupError(f"{root} is not a backup directory") from None
    try:
        head = msgspec.json.decode(data, type=_Kind)
    except msgspec.DecodeError as exc:
        raise BackupError(f"{path}: not a backup manifest ({exc})") from None
    if head.kind != kind:
        raise BackupError(f"{root} holds a {head.kind} backup, not a {kind} backup")
    if head.format != FORMAT:
        raise BackupError(f"{path}: manifest format {head.format}; this version reads format {FORMAT}")
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.DecodeError as exc:
        raise BackupError(f"{path}: not a valid {kind} backup manifest ({exc})") from None


def check_files(root: Path, files: list[BackupFile]) -> None:
    """Every file the manifest lists is in `root` with its size and SHA-256; else BackupError
    naming each one that is not."""
    problems = []
    for entry in files:
        path = root / entry.path
        if not _inside(entry.path):
            problems.append(f"{entry.path}: not a path inside the backup")
        elif not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
            problems.append(f"{entry.path}: its SHA-256 is not the one in {MANIFEST} (changed or damaged)")
    if problems:
        raise BackupError(f"the backup in {root} does not match its {MANIFEST}: " + "; ".join(problems))


def _inside(relative: str) -> bool:
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts


def replaced_path(path: Path, stamp: str) -> Path:
    """Where `path` is moved aside to: `<path>.replaced-<stamp>` (a counter added if taken)."""
    target = path.with_name(f"{path.name}.replaced-{stamp}")
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = path.with_name(f"{path.name}.replaced-{stamp}-{n}")
    return target


def stamp() -> str:
    """A compact UTC time for the names of what a restore moves aside (`20261127T012505Z`)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def move_aside(path: Path) -> Path:
    """Rename `path` (a file or a directory) to `<path>.replaced-<time>`; nothing is deleted."""
    target = replaced_path(path, stamp())
    os.rename(path, target)
    return target


@contextmanager
def staging_beside(target: Path) -> Iterator[Path]:
    """A private (0700) directory next to `target`, on its file system, removed afterwards: a
    restore builds there and renames into place, so `target` is whole or untouched."""
    private_parents(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
