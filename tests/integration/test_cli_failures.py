"""The `tongxin` console script: an expected failure is one line and exit 1, `--debug` or
TONGXIN_DEBUG=1 brings the traceback back, and `--version` comes from the package metadata."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

# a PostgreSQL URL nothing listens on (port 1)
UNREACHABLE_DB = "postgresql+psycopg://127.0.0.1:1/tongxin"


def tongxin(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "TONGXIN_DEBUG"} | env
    return subprocess.run(
        [sys.executable, "-m", "tongxin", *args],
        check=False,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def test_an_unreachable_database_is_one_line_naming_the_cause_and_a_hint_with_exit_1() -> None:
    run = tongxin("county", "migrate", "--db", UNREACHABLE_DB)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: database unreachable: ")
    assert "Connection refused" in lines[0] and "--db" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_flag_or_env_shows_the_traceback(how: str) -> None:
    if how == "flag":
        run = tongxin("--debug", "county", "migrate", "--db", UNREACHABLE_DB)
    else:
        run = tongxin("county", "migrate", "--db", UNREACHABLE_DB, TONGXIN_DEBUG="1")
    assert run.returncode != 0
    assert "Traceback" in run.stderr and "OperationalError" in run.stderr
    assert "error: database unreachable" not in run.stderr


@pytest.mark.parametrize(
    "group", [(), ("county",), ("node",), ("audit",)], ids=["tongxin", "county", "node", "audit"]
)
def test_version_is_the_package_metadata(group: tuple[str, ...]) -> None:
    run = tongxin(*group, "--version")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"tongxin {version('tongxin')}"


@pytest.mark.parametrize("group", ["county", "node", "audit"])
def test_each_group_lists_version_in_its_help(group: str) -> None:
    run = tongxin(group, "--help")
    assert run.returncode == 0 and "--version" in run.stdout, run.stdout
