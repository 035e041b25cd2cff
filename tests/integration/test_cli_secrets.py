"""The database URL, which may carry a password, from a file or the environment
(services/county/cli_db.py): `--db-file` / TONGXIN_COUNTY_DB_FILE work for the county's and the
auditor's commands, `--db` with a password still works but warns that `ps` shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.test_cli_failures import UNREACHABLE_DB, tongxin

WITH_PASSWORD = UNREACHABLE_DB.replace("//", "//county:s3cret@", 1)
VISIBLE = "visible to others in `ps`"


def plain(text: str) -> str:
    """Click's error box as one line: its frame gone, its wrapping (at the width of the terminal,
    or 80 columns piped, so where depends on the length of the tmp path) undone."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def url_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "db-url"
    path.write_text(url + "\n")
    path.chmod(0o600)
    return path


def test_db_file_gives_the_url(tmp_path: Path) -> None:
    db = tmp_path / "county.db"
    run = tongxin("county", "migrate", "--db-file", str(url_file(tmp_path, f"sqlite:///{db}")))
    assert run.returncode == 0, run.stderr
    assert "schema upgraded" in run.stdout and db.exists()
    assert VISIBLE not in run.stderr


def test_db_file_from_the_environment_for_an_audit_command_too(tmp_path: Path) -> None:
    db = tmp_path / "county.db"
    path = url_file(tmp_path, f"sqlite:///{db}")
    assert tongxin("county", "migrate", TONGXIN_COUNTY_DB_FILE=str(path)).returncode == 0
    run = tongxin("audit", "digest", TONGXIN_COUNTY_DB_FILE=str(path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("digest ")


def test_a_password_on_the_command_line_works_but_warns(tmp_path: Path) -> None:
    run = tongxin("county", "migrate", "--db", WITH_PASSWORD)
    assert run.returncode == 1, "it was used: the server it names is unreachable"
    warning, error = run.stderr.strip().splitlines()
    assert warning.startswith("warning: ") and VISIBLE in warning and "TONGXIN_COUNTY_DB" in warning
    assert "s3cret" not in run.stderr
    assert error.startswith("error: database unreachable")
    for quiet in (
        tongxin("county", "migrate", TONGXIN_COUNTY_DB=WITH_PASSWORD),
        tongxin("county", "migrate", "--db-file", str(url_file(tmp_path, WITH_PASSWORD))),
        tongxin("county", "migrate", "--db", UNREACHABLE_DB),  # no password in it
    ):
        assert quiet.returncode == 1 and VISIBLE not in quiet.stderr, quiet.stderr


@pytest.mark.parametrize("order", ["db first", "file first"])
def test_db_and_db_file_together_are_refused(tmp_path: Path, order: str) -> None:
    path = str(url_file(tmp_path, f"sqlite:///{tmp_path / 'county.db'}"))
    given = ["--db", "sqlite:///other.db", "--db-file", path]
    run = tongxin("county", "migrate", *(given if order == "db first" else given[2:] + given[:2]))
    assert run.returncode == 2 and "--db-file" in run.stderr and "not both" in plain(run.stderr)


def test_a_bad_db_file_is_refused_by_name(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    for path, why in ((empty, "is empty"), (tmp_path / "missing", "cannot read")):
        run = tongxin("county", "nodes", "--db-file", str(path))
        assert run.returncode == 2 and "--db-file" in run.stderr and why in plain(run.stderr), run.stderr
