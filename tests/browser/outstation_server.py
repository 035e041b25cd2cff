"""A real branch node's app (API and outstation page) served by uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from services.branch_node.api import create_app
from services.branch_node.service import NodeService
from tests.clerk import PASSWORD, with_password
from tests.conftest import make_node_dir


@contextmanager
def serve_node(
    node: NodeService, start_timeout_s: float = 20.0, password: str | None = PASSWORD
) -> Iterator[str]:
    """Serve `create_app(node)` on a free port, the clerk's password `password` (None: as the node
    has it); yields the base URL; stops and joins the server."""
    if password is not None:
        with_password(node.dir.path, password)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(node), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"node-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the node app did not start on port {port}")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def fresh_node(path: Path) -> Iterator[tuple[str, NodeService]]:
    """A new node (as `make_node_dir` makes one) at `path`, served: its URL and the node; closed after."""
    node = NodeService(make_node_dir(path))
    try:
        with serve_node(node) as url:
            yield url, node
    finally:
        node.close()
