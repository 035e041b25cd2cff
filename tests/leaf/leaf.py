"""An outstation's leaf server in front of the county's: real nats-servers on loopback.

The county's server has its users (an access directory) and a leafnode port; the leaf server
has no JetStream and no users of its own (the worst case: whoever reaches it is "the node"), and
one `leafnodes` remote to the county's, through a `bench.proxy.Proxy` that can cut the uplink,
authenticated as the node's own nkey user — so the county's per-node permissions for that node
are all that the leaf connection may do there (deploy/nats/outstation-leaf.conf)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bench.loop import Loop
from bench.proxy import Proxy
from shared.streams import ensure_streams_on
from shared.transport import connect
from tongxin.natsd import EmbeddedNats, free_port

JS_ACROSS = 'default_js_domain: {"$G": ""}'
"""On both servers: without it, nats-server denies `$JS.API.>` (and `$KV.>`) across a leafnode
connection of a non-system account, and the node's direct gets (its receipt, the reference data)
get no responders; publishes and their acks pass either way."""


class County:
    """The county's nats-server: users from its access directory, both streams, a leafnode port."""

    def __init__(self, root: Path) -> None:
        self.leaf_port = free_port()
        listen = json.dumps(f"127.0.0.1:{self.leaf_port}")
        self.server = EmbeddedNats(
            root / "county-nats", more_config=[f"leafnodes {{ listen: {listen} }}", JS_ACROSS]
        )

    def start(self) -> None:
        self.server.start()

        async def streams() -> None:
            nc = await connect(self.server.url, identity=self.server.identity("operator"))
            try:
                await ensure_streams_on(nc.jetstream())
            finally:
                await nc.close()

        asyncio.run(streams())


class Leaf:
    """The leaf server, its uplink to `county` through a proxy that can be cut."""

    def __init__(self, root: Path, county: County) -> None:
        self.loop = Loop(self._forever)
        self.proxy = Proxy("127.0.0.1", county.leaf_port)
        self._call(self.proxy.start())
        self.server = EmbeddedNats(root / "leaf-nats", open_access=True, jetstream=False)

    def _call(self, coro: Coroutine[Any, Any, object]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop.loop).result(30)

    @staticmethod
    async def _forever(stop: asyncio.Event) -> None:
        await stop.wait()

    @property
    def url(self) -> str:
        return self.server.url

    def start(self, seed: str) -> None:
        """Start, the uplink authenticated with the node's NATS `seed`."""
        remote = {
            "url": f"nats-leaf://127.0.0.1:{self.proxy.port}",
            "nkey": seed,
            # the county advertises its own leafnode port: reconnecting there would go round the proxy
            "ignore_discovered_servers": True,
        }
        self.server.more_config = [
            f'leafnodes {{ reconnect: "200ms", remotes: [{json.dumps(remote)}] }}',
            JS_ACROSS,
        ]
        self.server.start()

    def cut(self) -> None:
        self._call(self.proxy.cut())

    def restore(self) -> None:
        self.loop.loop.call_soon_threadsafe(self.proxy.restore)

    def close(self) -> None:
        self.server.stop()
        self._call(self.proxy.close())
        self.loop.close()
