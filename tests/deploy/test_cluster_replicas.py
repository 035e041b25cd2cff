"""A 3-server JetStream cluster of plain nats-servers, as deploy/nats/county-cluster.conf and
deploy/compose.yaml run it: `tongxin nats-access` makes the access directory every server includes,
`tongxin nats-streams --replicas 3` the streams as the operator, and the county's ingest, connecting
as the county through a list of servers (the first one down), keeps them R3 (it once brought them
down to R1 on every connect)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from shared.nats_access import AccessDir
from shared.nats_identity import NatsIdentity
from shared.transport import connect
from shared.wire import RECEIPTS_STREAM, REFS_BUCKET, STREAM
from tests.e2e.conftest import TONGXIN
from tongxin.natsd import find_binary, free_ports, port_open

REFS = f"KV_{REFS_BUCKET}"
"""The reference bucket's stream."""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[list[str], AccessDir]]:
    """Three nats-servers with JetStream routed to each other, each including the users of one
    access directory made by `tongxin nats-access`; their client URLs and that directory."""
    access = AccessDir(tmp_path / "access")
    made = subprocess.run(
        [TONGXIN, "nats-access", "--dir", str(access.path)], capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stderr
    clients, routes = free_ports(3), free_ports(3)
    peers = ", ".join(f'"nats://127.0.0.1:{p}"' for p in routes)
    procs = []
    try:
        for i in range(3):
            conf = tmp_path / f"n{i}.conf"
            conf.write_text(
                f'server_name: "n{i}"\nlisten: "127.0.0.1:{clients[i]}"\n'
                f'include "{os.path.relpath(access.users_file, tmp_path)}"\n'  # relative to the config
                f'jetstream {{ store_dir: "{tmp_path / f"s{i}"}" }}\n'
                f'cluster {{ name: "tongxin-county", listen: "127.0.0.1:{routes[i]}", routes: [{peers}] }}\n'
            )
            log = open(tmp_path / f"n{i}.log", "wb")  # noqa: SIM115 - closed below
            procs.append(subprocess.Popen([find_binary(), "-c", str(conf)], stdout=log, stderr=log))
            log.close()
        deadline = time.monotonic() + 10
        while not all(port_open("127.0.0.1", p) for p in clients):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield [f"nats://127.0.0.1:{p}" for p in clients], access
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


async def replicas(url: str, identity: NatsIdentity) -> dict[str, int]:
    nc = await connect(url, identity=identity, timeout=5)
    try:
        js = nc.jetstream()
        return {
            s: int((await js.stream_info(s)).config.num_replicas) for s in (STREAM, RECEIPTS_STREAM, REFS)
        }
    finally:
        await nc.close()


def test_nats_access_keeps_the_seeds_it_made(cluster: tuple[list[str], AccessDir]) -> None:
    _, access = cluster
    seeds = {who: access.seed_path(who).read_bytes() for who in ("county", "operator")}
    again = subprocess.run(
        [TONGXIN, "nats-access", "--dir", str(access.path)], capture_output=True, text=True, check=False
    )
    assert again.returncode == 0 and str(access.seed_path("county")) in again.stdout
    assert {who: access.seed_path(who).read_bytes() for who in seeds} == seeds
    assert {p.stat().st_mode & 0o777 for p in (access.seed_path("county"), access.seed_path("operator"))} == {
        0o600
    }


async def test_the_county_keeps_an_r3_stream_r3(
    cluster: tuple[list[str], AccessDir], county_engine: Engine
) -> None:
    urls, access = cluster
    operator = NatsIdentity.from_file(access.seed_path("operator"))
    args = [TONGXIN, "nats-streams", "--nats", urls[0], "--replicas", "3"]
    refused = await asyncio.to_thread(subprocess.run, args, capture_output=True, text=True, check=False)
    assert refused.returncode != 0, "nobody makes streams anonymously"
    made = await asyncio.to_thread(
        subprocess.run,
        [*args, "--nats-seed", str(access.seed_path("operator"))],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert await replicas(urls[1], operator) == {STREAM: 3, RECEIPTS_STREAM: 3, REFS: 3}
    county = NatsIdentity.from_file(access.seed_path("county"))
    dead = free_ports(1)[0]  # a server of the list that is down: the next one is used
    consumer = Consumer(Ingestor(county_engine, "jx"), f"nats://127.0.0.1:{dead},{urls[2]}", identity=county)
    # connects, ensures its streams, drains nothing (it retries a failed connection forever)
    await asyncio.wait_for(consumer.run(asyncio.Event(), once=True), 30)
    assert consumer.state.last_error is None
    assert await replicas(urls[0], operator) == {STREAM: 3, RECEIPTS_STREAM: 3, REFS: 3}
