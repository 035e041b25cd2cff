"""`tongxin nats`: the embedded server with the TONGXIN stream, stopped cleanly by SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
import trustme
from nats.errors import Error as NatsError

from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.transport import connect
from shared.wire import DUPLICATE_WINDOW_S, RECEIPTS_STREAM, STREAM, STREAM_SUBJECTS
from tests.e2e.conftest import TONGXIN
from tongxin.natsd import ensure_stream, port_open


async def stream_config(url: str, identity: NatsIdentity) -> tuple[float, list[str], str]:
    nc = await connect(url, identity=identity)
    try:
        info = await nc.jetstream().stream_info(STREAM)
        return info.config.duplicate_window or 0.0, list(info.config.subjects or []), str(info.config.storage)
    finally:
        await nc.close()


def test_nats_command_prints_its_url_creates_the_stream_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [TONGXIN, "nats", "--port", "0", "--store-dir", str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" listening on ")[1].split()[0]
        access = tmp_path / "store" / "access"
        assert str(access) in proc.stdout.readline()
        operator = NatsIdentity.from_file(access / "operator.seed")
        window, subjects, storage = asyncio.run(stream_config(url, operator))
        assert window == DUPLICATE_WINDOW_S and subjects == STREAM_SUBJECTS and "file" in storage
        # idempotent: a second call changes nothing and succeeds (the county may do it too)
        asyncio.run(ensure_stream(url, identity=NatsIdentity.from_file(access / "county.seed")))
        assert asyncio.run(stream_config(url, operator))[0] == DUPLICATE_WINDOW_S
        with pytest.raises(NatsError):  # no one connects anonymously, the embedded default included
            asyncio.run(stream_config(url, ANONYMOUS))
        assert stat.S_IMODE(access.stat().st_mode) == 0o700
        for name in ("county.seed", "operator.seed", "users.conf", "access.json"):
            assert stat.S_IMODE((access / name).stat().st_mode) == 0o600, name
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert "NATS stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "store" / "jetstream").is_dir()


def test_nats_command_refuses_a_taken_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run(
            [TONGXIN, "nats", "--port", str(port), "--store-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert r.returncode == 2 and f"port {port}" in r.stderr and "--port" in r.stderr


def test_sighup_reloads_the_servers_users_and_the_command_keeps_running(tmp_path: Path) -> None:
    """`systemctl reload tongxin-nats` sends SIGHUP to `tongxin nats` (it ended the command, so
    systemd restarted it and every connection dropped)."""
    proc = subprocess.Popen(
        [TONGXIN, "nats", "--port", "0", "--store-dir", str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),  # noqa: PLW1509 - as systemd starts it
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        log = tmp_path / "store" / "nats-server.log"
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while "Reloaded server configuration" not in log.read_text(errors="replace"):
            assert proc.poll() is None, "SIGHUP ended tongxin nats"
            assert time.monotonic() < deadline, "the server never reloaded"
            time.sleep(0.05)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_nats_cluster_command_runs_three_servers_with_r3_streams_and_stops_them_all(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [TONGXIN, "nats", "--cluster", "--port", "0", "--store-dir", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        urls = re.findall(r"nats://127\.0\.0\.1:\d+", lines[0])
        assert len(set(urls)) == 3 and "3 replicas" in lines[1]
        assert f"--nats {','.join(urls)}" in lines[2] and f"--nats-url {','.join(urls)}" in lines[2]
        access = store / "access"
        assert str(access) in lines[3]
        operator = NatsIdentity.from_file(access / "operator.seed")

        async def streams() -> list[tuple[int, int]]:
            out = []
            for url in urls:  # every server answers for the cluster's streams
                nc = await connect(url, identity=operator)
                try:
                    for name in (STREAM, RECEIPTS_STREAM):
                        info = await nc.jetstream().stream_info(name)
                        assert info.cluster is not None
                        out.append((info.config.num_replicas or 1, len(info.cluster.replicas or [])))
                finally:
                    await nc.close()
            return out

        assert asyncio.run(streams()) == [(3, 2)] * 6
        for url in urls:
            with pytest.raises(NatsError):  # no one anonymous, on any of the three
                asyncio.run(stream_config(url, ANONYMOUS))
        assert len(list(access.glob("nats-server-n*.pid"))) == 3
        assert stat.S_IMODE((store / "routes.secret").stat().st_mode) == 0o600
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "NATS stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ports = [int(u.rsplit(":", 1)[1]) for u in urls]
    assert not any(port_open("127.0.0.1", p) for p in ports), "every server stopped"
    assert list(access.glob("nats-server-n*.pid")) == []


@pytest.mark.parametrize(
    ("cluster", "client_certs"),
    [(False, False), (False, True), (True, False), (True, True)],
    ids=["server-tls", "client-certs", "cluster-tls", "cluster-client-certs"],
)
def test_nats_command_over_tls_with_a_private_ca_makes_its_streams(
    tmp_path: Path, cluster: bool, client_certs: bool
) -> None:
    """`tongxin nats [--cluster] --tls-cert/--tls-key` (and `--tls-ca`) with certificates of a
    county's own CA: the command's own operator connection trusts the certificate it gave the
    server(s) (no system store has that CA) and, when clients must present one, presents it, so
    the streams are made (with --cluster, on all three)."""
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert, key = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    store = tmp_path / "store"
    tls = ["--tls-cert", str(cert), "--tls-key", str(key)]
    tls += ["--tls-ca", str(ca_file)] if client_certs else []
    tls += ["--cluster", "--route-ca", str(ca_file)] if cluster else []
    proc = subprocess.Popen(
        [TONGXIN, "nats", "--port", "0", "--store-dir", str(store), *tls],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        urls = re.findall(r"tls://127\.0\.0\.1:\d+", first)
        assert len(urls) == (3 if cluster else 1), first + proc.stderr.read()
        ready = proc.stdout.readline() if cluster else first
        assert "streams TONGXIN and TONGXIN_RECEIPTS ready" in ready, proc.stderr.read()
        seed = store / "access" / "operator.seed"
        for url in urls:
            if client_certs:  # only a client with a certificate of the CA gets in
                with pytest.raises((NatsError, OSError, asyncio.TimeoutError)):
                    asyncio.run(stream_config(url, NatsIdentity.from_file(seed, ca_file=ca_file)))
                operator = NatsIdentity(seed.read_text().strip(), server_cert=cert, client_key=key)
            else:  # a client given the CA (the county's --nats-ca) finds the stream
                operator = NatsIdentity.from_file(seed, ca_file=ca_file)
            assert asyncio.run(stream_config(url, operator))[1] == STREAM_SUBJECTS
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
