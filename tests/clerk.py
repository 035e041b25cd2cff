"""Signing in to a node in tests, in one place: the clerk's password, a signed-in TestClient, bearer
tokens. Every test that talks to a node's API goes through here (the node refuses anyone else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.clerk import Clerk
from services.branch_node.service import NodeService

PASSWORD = "同心-测试用的密码-2026"
BASE_URL = "http://127.0.0.1:8710"
"""A Host the node answers to (TestClient's own `testserver` is refused, as any foreign name)."""


def with_password(data_dir: Path, password: str = PASSWORD) -> Clerk:
    """The clerk of the node in `data_dir`, with `password` set (once: setting it again would end
    every session)."""
    clerk = Clerk(data_dir)
    if not clerk.check_password(password):
        clerk.set_password(password)
    return clerk


def sign_in(client: TestClient, node: NodeService) -> TestClient:
    """Sign `client` in as the clerk, as the page does: the cookie, and the CSRF token on every
    request after."""
    with_password(node.dir.path)
    r = client.post("/api/v1/session", json={"password": PASSWORD})
    assert r.status_code == 201, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def clerk_client(node: NodeService, app: FastAPI | None = None, **options: Any) -> TestClient:
    """A TestClient on `app` (default: `create_app(node)`), signed in as the clerk."""
    client = TestClient(app if app is not None else create_app(node), base_url=BASE_URL, **options)
    return sign_in(client, node)


def bearer(node: NodeService, name: str = "tests") -> dict[str, str]:
    """The header of a new bearer token `name` of the node."""
    return {"Authorization": f"Bearer {Clerk(node.dir.path).add_token(name)}"}


_PROCESS_TOKENS: dict[Path, str] = {}


def process_token(data_dir: Path) -> str:
    """A bearer token of the node in `data_dir`, for tests that run `node serve` as a process
    (made once per data dir: a node served twice keeps it)."""
    key = data_dir.resolve()
    if key not in _PROCESS_TOKENS:
        _PROCESS_TOKENS[key] = Clerk(data_dir).add_token(f"tests-{len(_PROCESS_TOKENS)}")
    return _PROCESS_TOKENS[key]
