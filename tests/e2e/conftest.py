"""Running the real `tongxin` console script as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TONGXIN = str(Path(sys.executable).parent / "tongxin")


def tongxin(
    *args: str, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGXIN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        input=input,
        env=None,
    )


@pytest.fixture
def cli_node(tmp_path: Path) -> Path:
    data = tmp_path / "node"
    r = tongxin(
        "node",
        "init",
        "--node-id",
        "dongguan",
        "--county-id",
        "jx",
        "-d",
        str(data),
        "--nats-url",
        "nats://127.0.0.1:1",
    )
    assert r.returncode == 0, r.stderr
    return data
