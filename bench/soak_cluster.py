"""The soak's county as processes: its own nats-server, one TCP proxy per node in front of it,
`tongxin county serve`, and the branch nodes (`tongxin node init`, `tongxin county enrol-node`,
`tongxin node serve`), each process started, killed (-9), restarted and stopped by name.

Everything lives under one work dir; every child runs with `die_with_parent` and is stopped in
`Cluster.stop` (SIGTERM, then SIGKILL), which also kills anything left whose command line names
the work dir. Blocking calls run in threads: the proxies share the caller's event loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.county_mix import COUNTY, node_ids
from bench.proxy import Proxy
from services.branch_node.config import NodeDir
from shared.nats_identity import ANONYMOUS, NatsIdentity
from tongxin.demo.supervisor import Child
from tongxin.natsd import EmbeddedNats, ensure_stream, free_ports
from tongxin.procs import die_with_parent

Say = Callable[[str], None]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    minutes: float = 10.0
    nodes: int = 21
    seed: int = 2026
    rate: float = 2.0
    """Events per second recorded at each node."""
    faults: tuple[str, ...] = ()
    """Fault kinds to inject (empty: none)."""
    gap: float = 8.0
    """Mean seconds between the end of one fault and the start of the next."""
    repair_grace: float = 3.0
    converge_timeout: float = 300.0
    open_nats: bool = False
    """NATS without users (`--open-nats`), for a before/after pair with a build from before them."""


@dataclass(frozen=True)
class Features:
    """What this build of `tongxin` offers that the soak relies on (read from `--help`)."""

    node_commands: frozenset[str]
    node_repair_grace: bool
    county_repair_grace: bool
    county_commands: frozenset[str] = frozenset()

    def missing(self, *commands: str) -> list[str]:
        return [c for c in commands if c not in self.node_commands]


def tongxin_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "tongxin", *args]


def run_tongxin(
    *args: str, timeout: float = 120.0, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a `tongxin` command to its end (never outliving us); check=False: callers read the code."""
    return subprocess.run(
        tongxin_argv(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        preexec_fn=die_with_parent,
    )


def detect_features() -> Features:
    def commands(group: str) -> frozenset[str]:
        return frozenset(re.findall(r"│ ([a-z][a-z-]+)\s{2,}", run_tongxin(group, "--help").stdout))

    node_serve = run_tongxin("node", "serve", "--help").stdout
    county_serve = run_tongxin("county", "serve", "--help").stdout
    repair = ("--repair-grace" in node_serve, "--repair-grace" in county_serve)
    return Features(commands("node"), *repair, commands("county"))


def _nats_key(text: str) -> str | None:
    found = re.search(r"NATS key:\s*(U[A-Z2-7]+)", text)
    return None if found is None else found.group(1)


def _value(text: str, label: str) -> str:
    found = re.search(rf"{label}:\s*([0-9a-f]+)", text)
    if found is None:
        raise RuntimeError(f"no {label!r} in: {text}")
    return found.group(1)


@dataclass
class Cluster:
    settings: Settings
    root: Path
    db_url: str
    say: Say
    features: Features
    ids: list[str] = field(init=False)
    nats: EmbeddedNats = field(init=False)
    proxies: dict[str, Proxy] = field(init=False, default_factory=dict)
    county: Child = field(init=False)
    nodes: dict[str, Child] = field(init=False, default_factory=dict)
    ports: dict[str, int] = field(init=False, default_factory=dict)
    tokens: dict[str, str] = field(init=False, default_factory=dict)
    """Each node's bearer token for the load (`node token add soak`), where the build has tokens."""
    county_token: str | None = field(init=False, default=None)
    """An operator's bearer token for the county's API (`county user token`), where it has accounts."""

    def __post_init__(self) -> None:
        self.ids = node_ids(self.settings.nodes)
        self.nats = EmbeddedNats(self.root / "nats", HOST, open_access=self.settings.open_nats)
        if self.nats.port in (4222, 4223):  # never a system-wide or a developer's own NATS
            raise RuntimeError(f"refusing NATS port {self.nats.port}")
        names = ["county", *self.ids]
        self.ports = dict(zip(names, free_ports(len(names), HOST), strict=True))

    # -- addresses ----------------------------------------------------------------------------------
    def node_dir(self, node: str) -> Path:
        return self.root / "nodes" / node

    def node_identity(self, node: str) -> NatsIdentity:
        """How node `node` connects to NATS (anonymous where NATS runs open)."""
        return ANONYMOUS if self.nats.access is None else NodeDir(self.node_dir(node)).nats_identity()

    def node_url(self, node: str) -> str:
        return f"http://{HOST}:{self.ports[node]}"

    @property
    def county_url(self) -> str:
        return f"http://{HOST}:{self.ports['county']}"

    @property
    def county_key(self) -> Path:
        return self.root / "county.key"

    # -- start --------------------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.nats.start)
        await ensure_stream(self.nats.url, identity=self.nats.identity("operator"))
        for node in self.ids:
            proxy = Proxy(HOST, self.nats.port)
            await proxy.start()
            self.proxies[node] = proxy
        await asyncio.to_thread(self._enrol)
        self.county = Child("county", self._county_args(), self.root / "logs" / "county.log")
        self.county.health = f"{self.county_url}/health"
        self.county.start()
        for node in self.ids:
            child = Child(node, self._node_args(node), self.root / "logs" / f"{node}.log")
            child.health = f"{self.node_url(node)}/health"
            self.nodes[node] = child
            child.start()
        await self.wait_ready([self.county, *self.nodes.values()], 120.0)

    def _enrol(self) -> None:
        """`county key`, `county migrate`, then per node `node init` and `county enrol-node`."""
        key = run_tongxin("county", "key", "--county-key", str(self.county_key))
        county_public = _value(key.stdout, "public key")
        migrated = run_tongxin("county", "migrate", "--db", self.db_url)
        if migrated.returncode != 0:
            raise RuntimeError(f"county migrate: {migrated.stderr}")

        def init(node: str) -> tuple[str, str | None]:
            done = run_tongxin(
                "node", "init", "--node-id", node, "--county-id", COUNTY,
                "--data-dir", str(self.node_dir(node)),
                "--nats-url", self.proxies[node].url, "--county-public-key", county_public,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"node init {node}: {done.stderr}")
            if "token" in self.features.node_commands:  # the node's API needs one
                made = run_tongxin("node", "token", "add", "soak", "--data-dir", str(self.node_dir(node)))
                if made.returncode != 0:
                    raise RuntimeError(f"node token add {node}: {made.stderr}")
                self.tokens[node] = made.stdout.strip()
            return _value(done.stdout, "public key"), _nats_key(done.stdout)

        def enrol(node: str, keys: tuple[str, str | None]) -> None:
            public, nats_key = keys
            nats = [] if self.nats.access is None or nats_key is None else [
                "--nats-key", nats_key, "--county-id", COUNTY, "--nats-access", str(self.nats.access.path)
            ]  # fmt: skip
            done = run_tongxin("county", "enrol-node", node, public, "--db", self.db_url, *nats)
            if done.returncode != 0:
                raise RuntimeError(f"county enrol-node {node}: {done.stderr}")

        with ThreadPoolExecutor(4) as pool:
            keys = dict(zip(self.ids, pool.map(init, self.ids), strict=True))
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(enrol, keys, keys.values()))
        self.county_token = self._county_account()
        users = "NATS users" if self.nats.access is not None else "NATS open"
        self.say(f"  enrolled {len(keys)} nodes (node init + county enrol-node; {users})")

    def _county_account(self) -> str | None:
        """An operator account and its bearer token, where this build has county accounts."""
        if "user" not in self.features.county_commands:
            return None
        password = self.root / "soak.password"
        password.write_text(secrets.token_urlsafe(18) + "\n")
        password.chmod(0o600)
        for args in (
            ("add", "soak", "--role", "operator", "--password-file", str(password)),
            ("token", "soak", "--label", "soak", "--days", "1"),
        ):
            done = run_tongxin("county", "user", *args, "--db", self.db_url)
            if done.returncode != 0:
                raise RuntimeError(f"county user {args[0]}: {done.stderr}")
        return done.stdout.strip()

    def _county_args(self) -> list[str]:
        args = ["county", "serve", "--county-id", COUNTY, "--db", self.db_url, "--nats", self.nats.url]
        args += ["--host", HOST, "--port", str(self.ports["county"]), "--county-key", str(self.county_key)]
        if self.nats.access is not None:
            args += ["--nats-seed", str(self.nats.access.seed_path("county"))]
        if self.features.county_repair_grace:
            args += ["--repair-grace", str(self.settings.repair_grace)]
        return args

    def _node_args(self, node: str) -> list[str]:
        args = ["node", "serve", "--data-dir", str(self.node_dir(node)), "--host", HOST]
        args += ["--port", str(self.ports[node]), "--nats", self.proxies[node].url]
        if self.features.node_repair_grace:
            args += ["--repair-grace", str(self.settings.repair_grace)]
        return args

    async def wait_ready(self, children: list[Child], timeout: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiting = list(children)
        while waiting:
            for child in list(waiting):
                if not child.alive:
                    raise RuntimeError(
                        f"{child.name} exited while starting; {child.log} ends:\n{child.tail()}"
                    )
                if await asyncio.to_thread(child.ready):
                    waiting.remove(child)
            if waiting and loop.time() > deadline:
                raise RuntimeError(f"not up within {timeout:.0f} s: {', '.join(c.name for c in waiting)}")
            await asyncio.sleep(0.2)

    # -- faults -------------------------------------------------------------------------------------
    async def kill(self, child: Child) -> None:
        """kill -9, and reap it."""
        if child.proc is not None and child.proc.poll() is None:
            child.proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(child.proc.wait)

    async def restart(self, child: Child, timeout: float = 90.0) -> None:
        child.start()
        await self.wait_ready([child], timeout)

    async def stop_child(self, child: Child, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        child.terminate()
        await asyncio.to_thread(child.wait, timeout)
        return None if child.proc is None else child.proc.returncode

    async def kill_nats(self) -> None:
        await asyncio.to_thread(self.nats.kill)

    async def start_nats(self) -> None:
        """The same port, the same store."""
        await asyncio.to_thread(self.nats.start)

    # -- stop ---------------------------------------------------------------------------------------
    async def stop_services(self) -> dict[str, int | None]:
        """SIGTERM the nodes, then the county (exit codes by name); NATS and proxies stay up."""
        children = [self.nodes[n] for n in self.ids if n in self.nodes]
        for child in children:
            child.terminate()
        codes = {}
        for child in children:
            await asyncio.to_thread(child.wait, 20.0)
            codes[child.name] = child.proc.returncode if child.proc else None
        if hasattr(self, "county"):
            codes["county"] = await self.stop_child(self.county)
        return codes

    async def stop(self) -> None:
        """Every process and proxy, whatever state they are in; safe to call twice."""
        try:
            await self.stop_services()
        finally:
            for proxy in self.proxies.values():
                await proxy.close()
            await asyncio.to_thread(self.nats.stop)
            for pid in strays(self.root):
                os.kill(pid, signal.SIGKILL)


def strays(root: Path) -> list[int]:
    """Processes (ours or children of ours) whose command line names the work dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(root) in cmdline and state != "Z":
            found.append(int(entry.name))
    return found
