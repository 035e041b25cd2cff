"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

Playwright's own browser download does not work offline, so the tests launch the system
browser (`.ci/run` installs Debian's `chromium` when it is missing). Every page a test opens
records its failed requests and console errors; `watched_page` fails the test on either.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TONGXIN_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - dev extra missing
    sync_playwright = None  # type: ignore[assignment]


@dataclass
class Watch:
    """What went wrong on a page: failed requests (network errors and 4xx/5xx) and console errors."""

    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.console, f"console errors: {self.console}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API keeps an event loop running in this
    thread while it is open, so `asyncio.run` (the NATS fixtures) would fail in later modules."""
    if sync_playwright is None:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def watched_page(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    """A fresh page (own context, Chinese locale) and what failed on it; the test checks `watch`."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    watch = Watch()
    page.on("requestfailed", lambda r: watch.failed.append(f"{r.method} {r.url}: {r.failure}"))
    page.on(
        "response",
        lambda r: watch.failed.append(f"{r.request.method} {r.url}: {r.status}") if r.status >= 400 else None,
    )
    page.on("console", lambda m: watch.console.append(m.text) if m.type == "error" else None)
    try:
        yield page, watch
    finally:
        context.close()
