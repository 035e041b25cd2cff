"""Issue 17 on three real nats-servers: the access directory's users and their permissions hold on
every server of the cluster (one users.conf, one reload reaching all three), and TLS works on
the client ports and the routes."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from shared.nats_identity import NatsIdentity, new_seed, node_inbox, public_key
from shared.transport import connect as connect_once
from shared.wire import STREAM, events_subject
from tests.nats_access.test_permissions import connect, refused
from tongxin.natsd import Tls
from tongxin.natsd_cluster import EmbeddedCluster, cluster


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    with cluster(tmp_path / "nats") as c:
        yield c


def let_in(c: EmbeddedCluster, node_id: str) -> NatsIdentity:
    seed = new_seed()
    c.allow_node("jx", node_id, public_key(seed))
    return NatsIdentity(seed, node_inbox(node_id))


async def messages(c: EmbeddedCluster) -> int:
    nc = await connect_once(c.urls, identity=c.identity("operator"))
    try:
        return int((await nc.jetstream().stream_info(STREAM)).state.messages)
    finally:
        await nc.close()


def test_on_every_server_a_node_publishes_as_itself_only_and_a_revocation_reaches_all(
    nats_cluster: EmbeddedCluster,
) -> None:
    c = nats_cluster
    dongguan, _ = let_in(c, "dongguan"), let_in(c, "huadu")

    async def on_each_server() -> None:
        for url in c.urls:
            with pytest.raises(NatsError):  # nobody anonymous
                await nats.connect(url, allow_reconnect=False, connect_timeout=2)
            nc, errors = await connect(url, dongguan)
            try:
                js = nc.jetstream(timeout=5)
                ack = await js.publish(events_subject("jx", "dongguan"), b"{}", headers={"Nats-Msg-Id": url})
                assert ack.stream == STREAM
                before = await messages(c)
                await refused(js.publish(events_subject("jx", "huadu"), b"{}"), errors)
                assert await messages(c) == before
            finally:
                await nc.close()

    asyncio.run(on_each_server())
    assert asyncio.run(messages(c)) == len(c.urls)  # each server took its own publish, once

    async def cut_off_everywhere() -> None:
        live = [(await connect(url, dongguan))[0] for url in c.urls]
        c.revoke_node("dongguan")  # one revocation: every server reloads
        deadline = time.monotonic() + 10
        while any(nc.is_connected for nc in live):
            assert time.monotonic() < deadline, "a server kept the revoked node connected"
            await asyncio.sleep(0.05)
        for url in c.urls:
            with pytest.raises(NatsError):
                await nats.connect(url, allow_reconnect=False, connect_timeout=2, **dongguan.options())
        for nc in live:
            await nc.close()

    asyncio.run(cut_off_everywhere())


def test_the_routes_take_no_server_without_the_cluster_password(nats_cluster: EmbeddedCluster) -> None:
    for port in nats_cluster.route_ports.values():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            assert raw.recv(4096).startswith(b"INFO ")
            raw.sendall(b'CONNECT {"verbose":false,"pedantic":false,"name":"stranger"}\r\nPING\r\n')
            answer = b""
            while b"\r\n" not in answer:  # the server's one line; recv times out after 5 s
                chunk = raw.recv(4096)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"-ERR 'Authorization Violation'"), answer


def test_over_tls_the_cluster_makes_r3_streams_and_refuses_plain_text(
    tmp_path: Path, pki: tuple[Path, Path, Path]
) -> None:
    ca_file, cert_file, key_file = pki
    with cluster(tmp_path / "nats", tls=Tls(cert_file, key_file), route_ca=ca_file) as c:
        # the R3 streams exist: made over the TLS routes, each server's certificate verified
        assert all(url.startswith("tls://") for url in c.urls)
        assert c.replicas(STREAM) == 3
        operator = c.identity("operator")

        async def each_server() -> None:
            for url in c.urls:
                nc = await connect_once(url, identity=operator)
                info = await nc.jetstream().stream_info(STREAM)
                assert info.cluster is not None and len(info.cluster.replicas or []) == 2
                await nc.close()
                with pytest.raises((NatsError, OSError, asyncio.TimeoutError)):
                    plain = url.replace("tls://", "nats://")
                    await nats.connect(
                        plain, allow_reconnect=False, connect_timeout=2, nkeys_seed_str=operator.seed
                    )

        asyncio.run(each_server())
        context = ssl.create_default_context(cafile=str(ca_file))
        context.load_cert_chain(str(cert_file), str(key_file))
        for port in c.route_ports.values():
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                assert raw.recv(4096) == b"", "a plain-text peer gets nothing on a TLS route port"
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                assert tls.recv(4096).startswith(b"INFO ")
