"""One process at a time on a node's data dir where it matters: `serve` holds the lock while it
runs; `recover` and `restore` take it, so they never rewrite a log a running node is writing."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "node.lock"


class NodeBusyError(RuntimeError):
    pass


@contextmanager
def exclusive(data_dir: Path, what: str) -> Iterator[None]:
    """Hold the data dir's lock (an advisory `flock`, released when the process dies, kill -9
    included); raises NodeBusyError at once if another process holds it."""
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NodeBusyError(
                f"{what}: another process holds {data_dir / LOCK_FILE} (is `tongxin node serve` running "
                "on this data dir? stop it first)"
            ) from None
        yield
    finally:
        os.close(fd)
