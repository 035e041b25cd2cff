"""Enrolment and revocation on NATS with the real commands (issue 14): a node not yet enrolled
cannot forward; `county enrol-node --nats-key` lets it; the county ingests with its own seed;
`county revoke-node` shuts it out again while `tongxin nats` keeps running."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import TONGXIN, tongxin


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    store = tmp_path / "nats"
    proc = subprocess.Popen(
        [TONGXIN, "nats", "--port", "0", "--store-dir", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" listening on ")[1].split()[0]
        proc.stdout.readline()  # where the access directory is
        yield url, store / "access", proc
    finally:
        proc.terminate()
        proc.wait(15)


def _ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_a_node_forwards_only_while_enrolled_on_nats(
    tmp_path: Path, county_secret: str, nats: tuple[str, Path, subprocess.Popen[str]]
) -> None:
    url, access, server = nats
    node, db = str(tmp_path / "node"), f"sqlite:///{tmp_path / 'county.db'}"
    said = _ok(
        tongxin(
            "node", "init", "--node-id", "dongguan", "--county-id", "jx",
            "--county-secret", county_secret, "--nats-url", url, "--data-dir", node,
        )
    )  # fmt: skip
    public_key = said.split("public key:")[1].split()[0]
    nats_key = said.split("NATS key:")[1].split()[0]
    assert f"--nats-key {nats_key}" in said
    fund = ["-f", "org_id=dongguan", "-f", "source=host_subsidy", "-f", "amount_fen=100"]
    _ok(tongxin("node", "record", "fund.received", *fund, "--data-dir", node))

    refused = tongxin("node", "forward", "--once", "--data-dir", node)
    assert refused.returncode == 1, refused.stdout + refused.stderr

    enrolled = _ok(
        tongxin(
            "county", "enrol-node", "dongguan", public_key, "--nats-key", nats_key,
            "--county-id", "jx", "--nats-access", str(access), "--db", db,
        )
    )  # fmt: skip
    assert "server reloaded" in enrolled
    _ok(tongxin("node", "forward", "--once", "--data-dir", node))
    ingested = _ok(
        tongxin(
            "county", "ingest", "--county-id", "jx", "--once", "--db", db, "--nats", url,
            "--nats-seed", str(access / "county.seed"),
        )
    )  # fmt: skip
    assert "ingested 1 message" in ingested
    anonymous = tongxin("county", "ingest", "--county-id", "jx", "--once", "--db", db, "--nats", url)
    assert anonymous.returncode == 2 and "--nats-seed" in anonymous.stderr, anonymous.stderr

    revoked = _ok(tongxin("county", "revoke-node", "dongguan", "--nats-access", str(access)))
    assert "revoked" in revoked and "no running server" not in revoked
    _ok(tongxin("node", "record", "fund.received", *fund, "--data-dir", node))
    shut_out = tongxin("node", "forward", "--once", "--data-dir", node)
    assert shut_out.returncode == 1, shut_out.stdout + shut_out.stderr
    again = tongxin(
        "county", "enrol-node", "dongguan", public_key, "--nats-key", nats_key,
        "--county-id", "jx", "--nats-access", str(access), "--db", db,
    )  # fmt: skip
    assert again.returncode == 2 and "revoked with this key" in again.stderr
    assert server.poll() is None, "NATS kept running throughout"
