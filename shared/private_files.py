"""Files that hold personal data or secrets, private to their owner from the moment they exist:
directories 0700, files 0600, whatever the process's umask (which can only narrow a mode, never
widen it, so a file created with 0600 is 0600 or narrower).

SQLite gives a database's -wal, -shm and -journal files the database file's own mode, so a
database made private before its first connection (`private_file`) keeps them private too.
`tighten` fixes a tree made by an older version, which left modes to the umask (0644, 0755).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OTHERS = 0o077
"""The group's and everyone else's bits: what `narrowed` and `tighten` take away."""


def narrowed(mode: int) -> int:
    """`mode`'s permission bits for its owner alone (0644 → 0600, 0755 → 0700, 0600 stays)."""
    return stat.S_IMODE(mode) & ~_OTHERS


def private_dir(path: Path) -> Path:
    """`path` as a directory of mode 0700, made (with any missing parent, each 0700) if need be;
    an existing one is narrowed to 0700. Parents that exist are left as they are."""
    private_parents(path)
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        if not path.is_dir():
            raise
    os.chmod(path, PRIVATE_DIR)
    return path


def private_parents(path: Path) -> None:
    """Make the missing directories above `path`, each 0700 (one made here holds only what this
    program puts in it); the ones that exist are not touched."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        if parent.parent == parent:
            break
        parent = parent.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(directory, PRIVATE_DIR)


def private_file(path: Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists (then it is left alone); whether it was
    created. An empty file is a valid SQLite database: made so before SQLite first opens it, the
    database and the -wal/-shm/-journal files SQLite makes beside it are 0600."""
    private_parents(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` by `data`, mode 0600, atomically (a reader sees the old file or the new
    one) and synced to disk."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a crash's leftover: O_EXCL makes the new one 0600 for sure
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), PRIVATE_FILE)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Tightened:
    """One file or directory whose mode `tighten` narrowed."""

    path: str
    """Relative to the tree's root (`.` for the root itself)."""
    before: int
    after: int

    def __str__(self) -> str:
        return f"{self.path} {self.before:04o}→{self.after:04o}"


def tighten(root: Path) -> list[Tightened]:
    """Take the group's and others' bits off `root` and every directory and regular file under
    it (0755 → 0700, 0644 → 0600); what was changed, in walk order. Symbolic links are neither
    followed nor changed; a mode that is already private is left exactly as it is."""
    changed: list[Tightened] = []

    def fix(path: Path) -> None:
        st = os.lstat(path)
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            return
        before = stat.S_IMODE(st.st_mode)
        if before & _OTHERS:
            after = narrowed(before)
            os.chmod(path, after)
            changed.append(Tightened(os.path.relpath(path, root), before, after))

    fix(root)
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs) + sorted(files):
            try:
                fix(Path(directory) / name)
            except FileNotFoundError:  # a temporary file gone meanwhile
                continue
    return changed
