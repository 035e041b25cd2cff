"""The benches' embedded NATS with its users (issue 14), unless `--open-nats`: who connects as whom.

Nodes connect as themselves (their own nkey, `nats.seed` in the node's data dir, allowed with their
permissions as `tongxin county enrol-node --nats-key` would), the county as the county
(`county.seed`), and the benches' raw-JetStream baselines and stream housekeeping as the operator
(`operator.seed`, every permission). With `--open-nats` the server has no users and everyone is
anonymous: the before half of a before/after pair, in the same sitting.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from services.branch_node.config import NodeDir
from shared.nats_identity import NatsIdentity
from shared.transport import connect
from tongxin.natsd import EmbeddedNats, ensure_stream
from tongxin.natsd_cluster import EmbeddedCluster

OPEN_HELP = "NATS without users, everyone anonymous (the before half of a before/after pair)"


class BenchNats:
    def __init__(
        self, store: Path, *, open_access: bool = False, county_id: str = "jx", cluster: bool = False
    ) -> None:
        """One server, or with `cluster` three (`EmbeddedCluster`, both streams at 3 replicas)."""
        self.server: EmbeddedNats | EmbeddedCluster = (
            EmbeddedCluster(store, open_access=open_access)
            if cluster
            else EmbeddedNats(store, open_access=open_access)
        )
        self.county_id = county_id

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def users(self) -> bool:
        return self.server.access is not None

    def start(self) -> str:
        """Start the server (servers) and make sure both streams exist (as the operator)."""
        if isinstance(self.server, EmbeddedCluster):
            self.server.start()
            self.server.ensure_streams()
            return self.server.url
        url = self.server.start()
        asyncio.run(ensure_stream(url, identity=self.operator))
        return url

    @property
    def pids(self) -> list[int]:
        """The running nats-servers' process ids."""
        servers = self.server.servers.values() if isinstance(self.server, EmbeddedCluster) else [self.server]
        return [s.proc.pid for s in servers if s.proc is not None and s.proc.poll() is None]

    def stop(self) -> None:
        self.server.stop()

    def lose_store(self) -> None:
        """Stop the server, delete its JetStream store (streams, consumers, the duplicate window;
        not its users) and start it again."""
        if isinstance(self.server, EmbeddedCluster):
            raise TypeError("lose_store is a single server's")
        self.server.stop()
        shutil.rmtree(self.server.store_dir / "jetstream", ignore_errors=True)
        self.server.start()

    @property
    def operator(self) -> NatsIdentity:
        return self.server.identity("operator")

    @property
    def county(self) -> NatsIdentity:
        return self.server.identity("county")

    def seed_args(self, who: str) -> list[str]:
        """`--nats-seed FILE` of `county` or `operator`, for a child process (none when open)."""
        access = self.server.access
        return [] if access is None else ["--nats-seed", str(access.seed_path(who))]

    def allow(self, *node_dirs: Path) -> None:
        """Let each node connect as itself, with a node's permissions (nothing to do when open)."""
        access = self.server.access
        if access is None:
            return
        for path in node_dirs:
            d = NodeDir(path)
            access.allow_node(self.county_id, d.config().node_id, d.ensure_nats_key())
        if node_dirs:
            asyncio.run(self._reloaded(NodeDir(node_dirs[-1]).nats_identity()))

    async def _reloaded(self, last: NatsIdentity, timeout: float = 15.0) -> None:
        """Until the server has reloaded its user list (each `allow_node` sends SIGHUP): the last
        node allowed connects, twice 0.2 s apart. A connection made while the server reloads can
        be cut (`Connection lost`), so nothing should connect before."""
        deadline, ok = time.monotonic() + timeout, 0
        while ok < 2:
            try:
                nc = await connect(self.url, identity=last)
                await nc.close()
                ok += 1
            except Exception:
                ok = 0
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)

    def describe(self) -> str:
        if not self.users:
            return "NATS open (--open-nats): every connection anonymous"
        return "NATS users: nodes as themselves, the county as county, raw baselines as operator"
