"""The receipts a node holds, as an audit gets them: through the node's documented command
`tongxin node receipts --json`, never from the node's database (its storage is its own)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from services.county.audit.report import Claim
from services.county.audit.strict_json import repeated_key
from shared import receipt

NODE_COMMAND_TIMEOUT = 600
"""Seconds `tongxin node receipts` may take (it reads one table; this only stops a hang)."""


class NodeReceiptsError(ValueError):
    """A node's receipts could not be read; the message names the path given."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"--node-receipts {path}: {reason}")


def node_receipts(path: Path) -> list[Claim]:
    """The receipts a node holds: a JSONL file of them in wire form, as `tongxin node receipts
    --json` writes it, or a node's data dir, which that command is run on."""
    try:
        data = _from_node_command(path) if path.is_dir() else path.read_bytes()
    except OSError as exc:
        raise NodeReceiptsError(path, str(exc)) from None
    claims = []
    for number, line in enumerate(data.split(b"\n"), 1):  # JSON Lines end at b"\n" alone
        if not line.strip():
            continue
        try:
            r = receipt.decode(line)
        except (ValueError, RecursionError) as exc:  # FieldError, or what msgspec lets through
            raise NodeReceiptsError(path, f"line {number}: {exc}") from None
        if line != receipt.encode(r) and (key := repeated_key(line)) is not None:
            raise NodeReceiptsError(
                path, f"line {number} repeats the key {key!r} in one object (not strict JSON)"
            )
        claims.append(Claim(r, f"node ({path})"))
    return claims


def _from_node_command(data_dir: Path) -> bytes:
    """What `tongxin node receipts --json --data-dir DIR` prints (it opens log.db read-only)."""
    command = [sys.executable, "-m", "tongxin", "node", "receipts", "--json", "--data-dir", str(data_dir)]
    try:
        done = subprocess.run(command, capture_output=True, check=False, timeout=NODE_COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise OSError(f"`tongxin node receipts` did not finish in {NODE_COMMAND_TIMEOUT} s") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().removeprefix("error:").strip()
        raise OSError(said or f"`tongxin node receipts` exited with {done.returncode}")
    return done.stdout
