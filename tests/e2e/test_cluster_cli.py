"""The commands on a cluster (issue 17): `tongxin nats --cluster`, a node initialised with the three
servers comma-separated (`--nats-url`, kept in its config), `county enrol-node --nats-access`
reloading all three, and the node forwarding and the county ingesting (`--nats` the same list)
with one of the servers killed; a revocation shuts the node out of the two left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import TONGXIN, tongxin
from tests.repair.site import wait_until


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    store = tmp_path / "nats"
    proc = subprocess.Popen(
        [TONGXIN, "nats", "--cluster", "--port", "0", "--store-dir", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls = re.findall(r"nats://127\.0\.0\.1:\d+", proc.stdout.readline())
        for _ in range(3):
            proc.stdout.readline()
        yield ",".join(urls), store / "access", proc
    finally:
        proc.terminate()
        proc.wait(30)


def _ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_a_node_and_the_county_given_the_server_list_go_on_with_a_server_killed(
    tmp_path: Path, nats_cluster: tuple[str, Path, subprocess.Popen[str]]
) -> None:
    servers, access, cluster = nats_cluster
    assert servers.count(",") == 2
    node, db = str(tmp_path / "node"), f"sqlite:///{tmp_path / 'county.db'}"
    said = _ok(
        tongxin(
            "node", "init", "--node-id", "dongguan", "--county-id", "jx",
            "--nats-url", servers, "--data-dir", node,
        )
    )  # fmt: skip
    public_key = said.split("public key:")[1].split()[0]
    nats_key = said.split("NATS key:")[1].split()[0]
    enrolled = _ok(
        tongxin(
            "county", "enrol-node", "dongguan", public_key, "--nats-key", nats_key,
            "--county-id", "jx", "--nats-access", str(access), "--db", db,
        )
    )  # fmt: skip
    assert "server reloaded" in enrolled
    fund = ["-f", "org_id=dongguan", "-f", "source=host_subsidy", "-f", "amount_fen=100"]
    _ok(tongxin("node", "record", "fund.received", *fund, "--data-dir", node))

    n1 = access / "nats-server-n1.pid"
    os.kill(int(n1.read_text()), signal.SIGKILL)  # one server of the three gone
    _ok(tongxin("node", "forward", "--once", "--data-dir", node))  # the list from its config
    ingest = ["county", "ingest", "--county-id", "jx", "--once", "--db", db, "--nats", servers]
    ingested = _ok(tongxin(*ingest, "--nats-seed", str(access / "county.seed")))
    assert "ingested 1 message" in ingested

    wait_until(lambda: not n1.exists(), 30, "the dead server's pid file removed")
    assert {p.name for p in access.glob("nats-server-n*.pid")} == {"nats-server-n2.pid", "nats-server-n3.pid"}
    revoked = _ok(tongxin("county", "revoke-node", "dongguan", "--nats-access", str(access)))
    assert "revoked" in revoked and "no running server" not in revoked
    _ok(tongxin("node", "record", "fund.received", *fund, "--data-dir", node))
    shut_out = tongxin("node", "forward", "--once", "--data-dir", node)
    assert shut_out.returncode == 1, shut_out.stdout + shut_out.stderr
    assert cluster.poll() is None, "the other two kept running"
