"""`node serve`: the unattended mode — the local HTTP API and the forwarder in one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvicorn

from services.branch_node.api import create_app
from services.branch_node.clerk import Clerk
from services.branch_node.forwarder import REPAIR_GRACE, Forwarder
from services.branch_node.key_delivery import KeyCourier
from services.branch_node.reference import ReferenceFetcher
from services.branch_node.service import NodeService

log = logging.getLogger("tongxin.node")


async def serve(
    node: NodeService,
    host: str,
    port: int,
    nats_url: str,
    repair_grace: float = REPAIR_GRACE,
    allowed_hosts: tuple[str, ...] = (),
) -> None:
    """Run until SIGINT/SIGTERM, then stop every part cleanly (the cursor is saved on the way out):
    the HTTP API, the forwarder, the courier of members' keys (`key_delivery`) and the fetcher of
    the county's reference data (`reference`).
    The HTTP API answers to loopback names, `host` and `allowed_hosts`."""
    stop = asyncio.Event()
    forwarder = Forwarder(
        node,
        nats_url,
        progress=lambda done, last: log.info("forwarded", extra={"forwarded_seq": done, "last_seq": last}),
        repair_grace=repair_grace,
    )
    app = create_app(node, forwarder, allowed_hosts=(host, *allowed_hosts))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    clerk = Clerk(node.dir.path).state()
    if clerk.password is None and clerk.signin_token is None and not clerk.tokens:
        log.warning("no clerk password, sign-in token or bearer token: run `tongxin node passwd`")
    log.info(
        "serving",
        extra={"node_id": node.node_id, "http": f"http://{host}:{port}", "nats_url": nats_url},
    )
    if not node.receipts.has_key():
        log.warning(
            "no county key: every receipt is taken unchecked; give this node the county's public key "
            "(tongxin node county-key add HEX, from `tongxin county key`)",
            extra={"node_id": node.node_id},
        )
    courier = KeyCourier(node, nats_url)
    fetcher = ReferenceFetcher(node, nats_url)
    forwarding = asyncio.create_task(forwarder.run(stop))
    delivering = asyncio.create_task(courier.run(stop))
    fetching = asyncio.create_task(fetcher.run(stop))
    http = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    forwarder.wake.set()
    courier.wake.set()
    fetcher.wake.set()
    await asyncio.gather(http, forwarding, delivering, fetching)
    log.info("stopped", extra={"node_id": node.node_id})
