"""The CLI's human tables fit where they are printed (shared/cli_tables.py): piped, as wide as their
rows (not cut at 80 columns); on a terminal (a real pty, its window size set) as wide as it, the
widest column folded onto more lines and the others whole — nothing elided with `…`."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from shared.cli_tables import print_table
from shared.signing import Signer
from tests.integration.test_cli_failures import tongxin


def cells(output: str, column: int) -> list[str]:
    """The text of one column, line by line, of the table's body rows."""
    return [line.split("│")[column + 1].strip() for line in output.splitlines() if line.startswith("│")]


def on_terminal(*args: str, columns: int) -> str:
    """`tongxin ARGS` with its stdout on a pseudo-terminal `columns` wide; what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tongxin", *args], stdout=slave, stderr=subprocess.PIPE, env=env
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child has closed the terminal
            break
        if not data:
            break
        shown += data
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    os.close(master)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode()).replace("\r\n", "\n")


@pytest.fixture
def county_db(tmp_path: Path) -> tuple[str, Signer]:
    db = f"sqlite:///{tmp_path / 'county.db'}"
    key = Signer.generate()
    run = tongxin("county", "enrol-node", "dongguan", key.public_key_hex, "--db", db)
    assert run.returncode == 0, run.stderr
    return db, key


def test_piped_a_table_is_as_wide_as_its_rows(county_db: tuple[str, Signer]) -> None:
    db, key = county_db
    run = tongxin("county", "nodes", "--db", db, COLUMNS="60")  # ignored: this is no terminal
    assert run.returncode == 0, run.stderr
    assert cells(run.stdout, 4) == [key.public_key_hex], run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) > 80
    assert "…" not in run.stdout


def test_on_a_terminal_the_widest_column_folds_and_the_rest_stay_whole(county_db: tuple[str, Signer]) -> None:
    db, key = county_db
    shown = on_terminal("county", "nodes", "--db", db, columns=100)
    assert max(len(line) for line in shown.splitlines()) == 100, shown
    key_lines = cells(shown, 4)
    assert len(key_lines) > 1 and "".join(key_lines) == key.public_key_hex, shown
    assert cells(shown, 3)[0] == key.key_id, "the narrower columns are whole"
    assert "…" not in shown
    wide = on_terminal("county", "nodes", "--db", db, columns=200)
    assert cells(wide, 4) == [key.public_key_hex] and max(len(line) for line in wide.splitlines()) < 200


def test_too_narrow_for_the_rest_every_column_folds_and_nothing_is_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    table = Table("node", "public key", "enrolled")
    table.add_row("dongguan", "ab" * 32, "2026-11-27T01:25:05.000000Z")
    console = Console(record=True, soft_wrap=True, force_terminal=True)
    print_table(console, table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 40, text
    assert "".join(cells(text, 1)) == "ab" * 32 and "".join(cells(text, 2)) == "2026-11-27T01:25:05.000000Z"
    assert "…" not in text
