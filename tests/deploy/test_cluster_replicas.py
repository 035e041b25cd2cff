"""On a 3-server JetStream cluster the streams made with replicas 3 (docs/operations.md §16) stay
R3 when the county's ingest connects and brings them to its settings (it once made them R1)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from shared.transport import connect
from shared.wire import RECEIPTS_STREAM, STREAM
from tongxin.natsd import ensure_stream, find_binary, free_ports, port_open


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[str]]:
    """Three nats-servers with JetStream, routed to each other (plain text, open access: the
    replicas are the test); their client URLs."""
    clients, routes = free_ports(3), free_ports(3)
    peers = ", ".join(f'"nats://127.0.0.1:{p}"' for p in routes)
    procs = []
    try:
        for i in range(3):
            conf = tmp_path / f"n{i}.conf"
            conf.write_text(
                f'server_name: "n{i}"\nlisten: "127.0.0.1:{clients[i]}"\n'
                f'jetstream {{ store_dir: "{tmp_path / f"s{i}"}" }}\n'
                f'cluster {{ name: "tongxin-county", listen: "127.0.0.1:{routes[i]}", '
                f"routes: [{peers}] }}\n"
            )
            log = open(tmp_path / f"n{i}.log", "wb")  # noqa: SIM115 - closed below
            procs.append(subprocess.Popen([find_binary(), "-c", str(conf)], stdout=log, stderr=log))
            log.close()
        deadline = time.monotonic() + 10
        while not all(port_open("127.0.0.1", p) for p in clients):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield [f"nats://127.0.0.1:{p}" for p in clients]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


async def replicas(url: str) -> dict[str, int]:
    nc = await connect(url, timeout=5)
    try:
        js = nc.jetstream()
        return {s: int((await js.stream_info(s)).config.num_replicas) for s in (STREAM, RECEIPTS_STREAM)}
    finally:
        await nc.close()


async def test_the_county_keeps_an_r3_stream_r3(cluster: list[str], county_engine: Engine) -> None:
    await ensure_stream(cluster[0], replicas=3, timeout=30)  # as the operator makes them (§16)
    assert await replicas(cluster[1]) == {STREAM: 3, RECEIPTS_STREAM: 3}
    consumer = Consumer(Ingestor(county_engine, "jx"), cluster[2])
    await consumer.run(asyncio.Event(), once=True)  # connects, ensures its streams, drains nothing
    assert consumer.state.last_error is None
    assert await replicas(cluster[0]) == {STREAM: 3, RECEIPTS_STREAM: 3}
