"""/docs works offline (issue 14): the county's and a node's OpenAPI pages render every operation
in Chromium with every request to anything but the service itself blocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine, create_engine

from services.branch_node.service import NodeService
from services.county.db.engine import migrate
from tests.browser.conftest import Watch
from tests.browser.dashboard_server import serve
from tests.browser.outstation_server import serve_node
from tests.conftest import make_node_dir


@pytest.fixture
def county_url(tmp_path: Path) -> Iterator[str]:
    engine: Engine = create_engine(f"sqlite:///{tmp_path / 'county.db'}")
    migrate(engine)
    try:
        with serve(engine) as url:
            yield url
    finally:
        engine.dispose()


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[str]:
    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        with serve_node(node) as url:
            yield url
    finally:
        node.close()


def _offline(page: Page) -> list[str]:
    """Abort every request that leaves 127.0.0.1; the list of those tried."""
    tried: list[str] = []

    def route(r: Route) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            tried.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return tried


def _check_docs(page: Page, watch: Watch, base: str, operations: int) -> None:
    tried = _offline(page)
    page.goto(f"{base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()
    expect(page.locator(".opblock").nth(operations - 1)).to_be_attached()
    assert tried == []
    watch.assert_clean()


def test_county_docs_render_offline(watched_page: tuple[Page, Watch], county_url: str) -> None:
    page, watch = watched_page
    _check_docs(page, watch, county_url, operations=20)


def test_node_docs_render_offline(watched_page: tuple[Page, Watch], node_url: str) -> None:
    page, watch = watched_page
    _check_docs(page, watch, node_url, operations=3)
