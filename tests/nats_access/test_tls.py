"""TLS on NATS (issue 14), on loopback with certificates from a test CA (trustme): a client that
trusts the CA connects over TLS with its nkey; a plain-text client is refused; two servers form a
cluster over TLS routes and carry a message from one to the other."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from shared.nats_identity import NatsIdentity
from shared.transport import connect
from tongxin.natsd import EmbeddedNats, Tls, ensure_stream, find_binary, free_ports, port_open


def test_clients_connect_over_tls_only(tmp_path: Path, pki: tuple[Path, Path, Path]) -> None:
    ca_file, cert_file, key_file = pki
    server = EmbeddedNats(tmp_path / "nats", tls=Tls(cert_file, key_file))
    server.start()
    try:
        assert server.url.startswith("tls://")
        operator = server.identity("operator")
        trusted = NatsIdentity(operator.seed, ca_file=ca_file)
        asyncio.run(ensure_stream(server.url, identity=trusted))
        untrusting = NatsIdentity(operator.seed)
        with pytest.raises((NatsError, OSError, asyncio.TimeoutError)):  # the system store lacks the CA
            asyncio.run(_ping(server.url, untrusting))
        asyncio.run(_ping(server.url, operator))  # the server's starter trusts the certificate it gave it
        plain = server.url.replace("tls://", "nats://")
        with pytest.raises((NatsError, OSError, asyncio.TimeoutError)):
            asyncio.run(_plain(plain, untrusting))
    finally:
        server.stop()


async def _ping(url: str, identity: NatsIdentity) -> None:
    nc = await connect(url, identity=identity)
    await nc.close()


async def _plain(url: str, identity: NatsIdentity) -> None:
    """A client that never starts TLS (no tls context, no tls:// scheme)."""
    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2, **identity.options())
    await nc.close()


@pytest.fixture
def cluster(tmp_path: Path, pki: tuple[Path, Path, Path]) -> Iterator[tuple[list[int], list[int]]]:
    """Two nats-servers routed to each other over TLS (client ports open: the routes are the test)."""
    ca_file, cert_file, key_file = pki
    clients, routes = free_ports(2), free_ports(2)
    procs = []
    try:
        for i in range(2):
            conf = tmp_path / f"n{i}.conf"
            files = f'cert_file: "{cert_file}", key_file: "{key_file}", ca_file: "{ca_file}"'
            tls = f"tls {{ {files}, verify: true }}"
            conf.write_text(
                f'listen: "127.0.0.1:{clients[i]}"\n'
                f'server_name: "n{i}"\n'
                "cluster {\n"
                '  name: "tongxin"\n'
                f'  listen: "127.0.0.1:{routes[i]}"\n'
                f'  routes: ["tls://127.0.0.1:{routes[1 - i]}"]\n'
                f"  {tls}\n"
                "}\n"
            )
            log = open(tmp_path / f"n{i}.log", "wb")  # noqa: SIM115 - closed below
            procs.append(subprocess.Popen([find_binary(), "-c", str(conf)], stdout=log, stderr=log))
            log.close()
        deadline = time.monotonic() + 10
        while not all(port_open("127.0.0.1", p) for p in clients):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield clients, routes
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def test_two_servers_route_over_tls(
    cluster: tuple[list[int], list[int]], pki: tuple[Path, Path, Path]
) -> None:
    clients, routes = cluster

    async def across() -> bytes:
        a = await nats.connect(f"nats://127.0.0.1:{clients[0]}", allow_reconnect=False)
        b = await nats.connect(f"nats://127.0.0.1:{clients[1]}", allow_reconnect=False)
        try:
            sub = await b.subscribe("tongxin.route.check")
            deadline = time.monotonic() + 10
            while True:  # until the route is up and has carried b's interest to a
                await a.publish("tongxin.route.check", b"over tls")
                try:
                    return bytes((await sub.next_msg(timeout=0.5)).data)
                except TimeoutError:
                    assert time.monotonic() < deadline, "no route formed"
        finally:
            await a.close()
            await b.close()

    assert asyncio.run(across()) == b"over tls"
    ca_file, cert_file, key_file = pki
    context = ssl.create_default_context(cafile=str(ca_file))
    context.load_cert_chain(str(cert_file), str(key_file))  # the routes verify their peer's certificate
    for port in routes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            assert raw.recv(4096) == b"", "a plain-text peer gets nothing on a TLS route port"
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() is not None and tls.recv(4096).startswith(b"INFO ")
