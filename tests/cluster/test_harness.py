"""The cluster harness itself (issue 17): whatever happens inside its `with` block, or while it
starts, no nats-server is left running; a client given the three servers reaches a live one
whichever is down."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from shared.nats_identity import NatsIdentity
from shared.transport import connect
from tongxin.natsd import NatsServerError, free_ports, port_open
from tongxin.natsd_cluster import EmbeddedCluster


def test_a_failure_inside_the_block_stops_all_three(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="a test failed"), EmbeddedCluster(tmp_path / "nats") as c:
        procs = [s.proc for s in c.servers.values()]
        assert c.running() == ["n1", "n2", "n3"]
        raise RuntimeError("a test failed")
    assert all(p is not None and p.poll() is not None for p in procs)
    assert not any(port_open("127.0.0.1", s.port) for s in c.servers.values())
    assert c.access is not None and c.access.pid_files() == []


def test_a_server_that_cannot_start_leaves_none_running(tmp_path: Path) -> None:
    ports = free_ports(3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[1]))
        taken.listen()
        c = EmbeddedCluster(tmp_path / "nats", ports=ports)
        with pytest.raises(NatsServerError, match=f"port {ports[1]}"), c:
            pass
    assert c.running() == []
    assert not port_open("127.0.0.1", ports[0])


def test_a_client_given_the_list_connects_whichever_server_is_down(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "nats") as c:
        for down in c.servers:
            c.kill(down)
            # the pool is shuffled on each attempt: ten in a row try the dead server first almost surely
            reached = asyncio.run(_connected_to(c.url, c.identity("operator"), 10))
            assert reached and c.servers[down].url not in reached
            c.start(down)


async def _connected_to(servers: str, identity: NatsIdentity, times: int) -> set[str]:
    reached = set()
    for _ in range(times):
        nc = await connect(servers, identity=identity)
        reached.add(f"nats://{nc.connected_url.hostname}:{nc.connected_url.port}")
        await nc.close()
    return reached
