"""`tongxin audit export` signs what it writes and refuses a county it is not; `tongxin audit verify
--export` refuses an export whose signature fails, and the issue's truncation (a node's last three
lines deleted, every unsigned field fixed up, the receipt kept) exits 1 — also with the node's
receipts (SQLite and PostgreSQL, the commands run as processes)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate
from tests.county.test_audit_integrity import COUNTY, DONGGUAN_LENGTH, Built, build
from tests.county.test_signed_export import read, truncate_last_three, write
from tests.e2e.conftest import tongxin


@pytest.fixture
def engine(county_db_url: str) -> Iterator[Engine]:
    engine = make_engine(county_db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def built(engine: Engine, tmp_path: Path) -> Iterator[Built]:
    b = build(engine, tmp_path / "nodes")
    yield b
    b.dongguan.close()
    b.huadu.close()


@pytest.fixture
def county_key(tmp_path: Path) -> Path:
    path = tmp_path / "county.key"
    COUNTY.save(path)
    return path


def test_export_refuses_a_county_id_that_is_not_the_countys(
    built: Built, county_db_url: str, county_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "x.zip"
    common = ("audit", "export", "--db", county_db_url, "--county-key", str(county_key), "--out", str(out))
    done = tongxin(*common, "--county-id", "notthecounty")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "'notthecounty' is not this county's id" in done.stderr and not out.exists()
    assert tongxin(*common, "--county-id", "jx").returncode == 0 and out.exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "an export holds personal data: its owner's alone"


def test_verify_refuses_the_issues_truncation_and_an_unsigned_export(
    built: Built, county_db_url: str, county_key: Path, tmp_path: Path
) -> None:
    good = tmp_path / "jx.zip"
    done = tongxin(
        "audit", "export", "--db", county_db_url, "--county-key", str(county_key), "--county-id", "jx",
        "--out", str(good),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    files = read(good)
    at = truncate_last_three(files)
    cut = write(tmp_path / "cut.zip", files)
    unsigned = write(tmp_path / "unsigned.zip", {n: d for n, d in read(good).items() if n != "manifest.sig"})
    verify = ("audit", "verify", "--county-key", str(county_key), "--export")
    nodes = ("--node-receipts", str(built.dongguan.dir.path))
    assert tongxin(*verify, str(good), *nodes).returncode == 0
    for args in ((str(cut),), (str(cut), *nodes)):
        done = tongxin(*verify, *args)
        assert done.returncode == 1, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert any(
            line.startswith("export - manifest.json was changed after it was signed") for line in lines
        )
        assert (
            f"dongguan {DONGGUAN_LENGTH} county receipt acknowledges seq {DONGGUAN_LENGTH}, but the export "
            f"ends at seq {at} (tail truncated after acknowledgement)"
        ) in lines
    done = tongxin(*verify, str(unsigned))
    assert done.returncode == 1
    assert "export - manifest.sig is missing: the manifest is not signed by the county" in done.stdout
