"""Three nats-servers as one JetStream cluster (R3 streams), for the tests and `tongxin nats --cluster`.

Each server is an `EmbeddedNats` (its config written there) with its own store (`root/n1`, `n2`,
`n3`), client port and route port, and one access directory shared by all three (`root/access`:
one users.conf that each includes, a pid file each), so `allow_node`/`revoke_node` here — and
`tongxin county enrol-node --nats-access root/access` — reload all three. The routes take a user
and a password made on first start (`root/routes.secret`, 0600), and with `tls` run over TLS,
each side's certificate verified against the route CA. A server is killed (SIGKILL), stopped and
started again by name, on its own ports and store; leaving the `with` block stops every one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from nats.errors import Error as NatsError

from shared.nats_access import AccessDir
from shared.nats_identity import NatsIdentity
from shared.private_files import write_private
from shared.streams import ensure_streams_on
from shared.transport import connect, shown
from shared.wire import RECEIPTS_STREAM, STREAM
from tongxin.natsd import EmbeddedNats, NatsServerError, Tls, free_ports

NAMES = ("n1", "n2", "n3")
CLUSTER_NAME = "tongxin"
ROUTE_USER = "route"
SECRET_FILE = "routes.secret"


class EmbeddedCluster:
    """Three `EmbeddedNats` routed to each other, JetStream on each (a cluster of `NAMES`)."""

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        ports: Sequence[int] = (),
        *,
        open_access: bool = False,
        tls: Tls | None = None,
        route_ca: Path | None = None,
    ) -> None:
        """`ports`: the three client ports (default: free ones); the route ports are free ones.
        `route_ca` verifies the servers' certificates on the routes (default: `tls.ca`)."""
        picked = free_ports(2 * len(NAMES), host)
        clients = list(ports) or picked[: len(NAMES)]
        if len(clients) != len(NAMES):
            raise ValueError(f"a cluster takes {len(NAMES)} client ports")
        self.root, self.host, self.tls = root, host, tls
        self.route_ca = route_ca or (tls.ca if tls is not None else None)
        if tls is not None and self.route_ca is None:
            raise NatsServerError("TLS routes verify each server's certificate: give the CA that signed them")
        self.route_ports = dict(zip(NAMES, picked[len(NAMES) :], strict=True))
        self.access = None if open_access else AccessDir(root / "access")
        self.servers = {
            name: EmbeddedNats(
                root / name, host, port, open_access=open_access, tls=tls, name=name, access=self.access
            )
            for name, port in zip(NAMES, clients, strict=True)
        }

    # -- addresses and identities --------------------------------------------------------------------
    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers.values()]

    @property
    def url(self) -> str:
        """The three URLs comma-separated: a `--nats` value, a node's `nats_url`."""
        return shown(self.urls)

    def running(self) -> list[str]:
        return [n for n, s in self.servers.items() if s.proc is not None and s.proc.poll() is None]

    def identity(self, who: str = "operator") -> NatsIdentity:
        """How `county` or `operator` connects: as a server's own (`EmbeddedNats.identity`: over
        TLS trusting the one certificate all three were given, and presenting it where clients
        must show one)."""
        return self.servers[NAMES[0]].identity(who)

    def _secret(self) -> str:
        path = self.root / SECRET_FILE
        if not path.exists():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(path, secrets.token_urlsafe(24).encode() + b"\n")
        return path.read_text().strip()

    def _cluster_block(self, name: str) -> list[str]:
        secret = self._secret()
        scheme = "tls" if self.tls is not None else "nats-route"
        routes = [f"{scheme}://{ROUTE_USER}:{secret}@{self.host}:{p}" for p in self.route_ports.values()]
        block: dict[str, Any] = {
            "name": CLUSTER_NAME,
            "listen": f"{self.host}:{self.route_ports[name]}",
            "authorization": {"user": ROUTE_USER, "password": secret},
            "routes": routes,
        }
        if self.tls is not None:
            block["tls"] = {
                "cert_file": str(self.tls.cert),
                "key_file": str(self.tls.key),
                "ca_file": str(self.route_ca),
                "verify": True,
            }
        return [f"cluster: {json.dumps(block)}"]

    # -- processes -----------------------------------------------------------------------------------
    def start(self, name: str | None = None, timeout: float = 60.0) -> None:
        """Start every server (or the one named, again on its ports and store) and wait until
        JetStream answers; a server already running is left as it is."""
        for n in NAMES if name is None else (name,):
            server = self.servers[n]
            if n in self.running():
                continue
            server.more_config = self._cluster_block(n)
            server.start(timeout)
        self.wait_jetstream(timeout)

    def stop(self, name: str | None = None, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM, SIGKILL after `timeout`) of one server or all."""
        for n in NAMES if name is None else (name,):
            self.servers[n].stop(timeout)
            if self.access is not None:
                self.access.pid_file_of(n).unlink(missing_ok=True)

    def reap(self) -> list[str]:
        """The running servers; the pid file of one that died is removed (a reload must never
        signal a pid the system has given another process since)."""
        for n in set(NAMES) - set(self.running()):
            if self.access is not None and self.servers[n].proc is not None:
                self.access.pid_file_of(n).unlink(missing_ok=True)
        return self.running()

    def kill(self, name: str) -> None:
        """kill -9 of one server."""
        self.servers[name].kill()

    def __enter__(self) -> EmbeddedCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    # -- JetStream -----------------------------------------------------------------------------------
    async def _admin(self, call: Callable[[Any], Any], timeout: float, what: str) -> Any:
        """`call(js)` on a running server as the operator, retried until it succeeds (a cluster
        electing leaders answers 503 or not at all for a while) or `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            urls = [self.servers[n].url for n in self.running()]
            if not urls:
                raise NatsServerError(f"no server of the cluster runs ({what})")
            try:
                nc = await connect(urls, identity=self.identity("operator"))
                try:
                    result = await call(nc.jetstream())
                finally:
                    with contextlib.suppress(Exception):
                        await nc.close()
                if result is not None and result is not False:
                    return result
                problem = "not yet"
            except (NatsError, OSError, TimeoutError, RuntimeError) as exc:
                problem = repr(exc)
            if time.monotonic() > deadline:
                raise NatsServerError(f"{what}: not within {timeout:g}s ({problem})")
            await asyncio.sleep(0.2)

    def wait_jetstream(self, timeout: float = 60.0) -> None:
        """Until the cluster's JetStream answers (a meta leader is elected)."""
        asyncio.run(self._admin(lambda js: js.account_info(), timeout, "JetStream of the cluster"))

    def ensure_streams(self, replicas: int = len(NAMES), timeout: float = 60.0) -> None:
        """Both streams with `replicas` replicas (all three servers must run to create them)."""

        async def ensure(js: Any) -> bool:
            await ensure_streams_on(js, replicas, timeout=5.0)
            return True

        asyncio.run(self._admin(ensure, timeout, f"streams with {replicas} replicas"))

    def leader_of(self, stream: str = STREAM, consumer: str | None = None, timeout: float = 30.0) -> str:
        """The running server leading `stream` (or its `consumer`) now, once one is elected."""

        async def leader(js: Any) -> str | None:
            info = await (js.stream_info(stream) if consumer is None else js.consumer_info(stream, consumer))
            name = None if info.cluster is None else info.cluster.leader
            return name if name in self.running() else None

        name: str = asyncio.run(self._admin(leader, timeout, f"a leader of {stream}"))
        return name

    def replicas(self, stream: str = STREAM, timeout: float = 30.0) -> int:
        """How many replicas `stream` is configured with."""

        async def replicas(js: Any) -> int:
            return int((await js.stream_info(stream)).config.num_replicas or 1)

        n: int = asyncio.run(self._admin(replicas, timeout, f"the replicas of {stream}"))
        return n

    def wait_current(
        self, streams: Sequence[str] = (STREAM, RECEIPTS_STREAM), timeout: float = 120.0
    ) -> None:
        """Until each stream and each of its consumers has a leader on a running server and every
        other replica online and current (after a restart: caught up)."""
        wanted = len(NAMES) - 1

        def caught_up(cluster: Any) -> bool:
            peers = [] if cluster is None else cluster.replicas or []
            return (
                cluster is not None
                and cluster.leader in self.running()
                and len(peers) == wanted
                and all(p.current and not p.offline for p in peers)
            )

        async def current(js: Any) -> bool:
            for stream in streams:
                info = await js.stream_info(stream)
                consumers = await js.consumers_info(stream)
                if not all(caught_up(c) for c in [info.cluster, *(c.cluster for c in consumers)]):
                    return False
            return True

        asyncio.run(self._admin(current, timeout, "every replica current"))

    # -- access --------------------------------------------------------------------------------------
    def allow_node(self, county_id: str, node_id: str, key: str, timeout: float = 15.0) -> None:
        """`AccessDir.allow_node` (which signals every server), then wait until each running one
        has reloaded."""
        access = self._access()
        self._reloaded(lambda: access.allow_node(county_id, node_id, key), timeout)

    def revoke_node(self, node_id: str, timeout: float = 15.0) -> None:
        access = self._access()
        self._reloaded(lambda: access.revoke_node(node_id), timeout)

    def _access(self) -> AccessDir:
        if self.access is None:
            raise NatsServerError("a cluster without users lets every node in")
        return self.access

    def _reloaded(self, change: Callable[[], object], timeout: float) -> None:
        before = {n: self.servers[n].reloads() for n in self.running()}
        change()
        deadline = time.monotonic() + timeout
        while any(n in self.running() and self.servers[n].reloads() <= r for n, r in before.items()):
            if time.monotonic() > deadline:
                raise NatsServerError(f"not every server reloaded its users within {timeout}s")
            time.sleep(0.02)


@contextlib.contextmanager
def cluster(root: Path, **options: Any) -> Iterator[EmbeddedCluster]:
    """A started cluster with both streams at 3 replicas; every server stopped afterwards."""
    with EmbeddedCluster(root, **options) as c:
        c.ensure_streams()
        yield c
