"""The county dashboard's first paint and full render in headless Chromium, on demo-sized data.

    python -m bench.dashboard [--members 3000] [--townships 8] [--runs 5] [--screenshot /tmp/dashboard.png]

Records a county history at real branch nodes (`tests/browser/dashboard_county.py`), ingests it
into a fresh SQLite database, serves `create_app` with uvicorn, signs in once through the page
(`/login`, an analyst account made for the run) and loads `/` `--runs` times in Debian's Chromium
(a fresh context each time, signed in — the session cookie and CSRF value of that sign-in — and
with nothing cached). Prints how long the sign-in took (submit → dashboard ready), then, per run and as the
median: first paint and first contentful paint (the page shell), `tx:ready` (every panel
rendered from the API: roster, alerts, six charts, node health) and the slowest API request.
Measures and prints; never asserts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, StorageState, sync_playwright

from bench.accounts import account
from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.dashboard_county import build_county
from tests.browser.dashboard_server import serve

TIMING = """() => {
  const paint = Object.fromEntries(performance.getEntriesByType("paint").map((e) => [e.name, e.startTime]));
  const ready = performance.getEntriesByName("tx:ready")[0];
  const api = performance.getEntriesByType("resource").filter((r) => r.name.includes("/api/"));
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    first_paint: paint["first-paint"],
    first_contentful_paint: paint["first-contentful-paint"],
    dom_content_loaded: nav.domContentLoadedEventEnd,
    ready: ready ? ready.startTime : null,
    api_requests: api.length,
    slowest_api: Math.max(...api.map((r) => r.duration)),
  };
}"""
COLUMNS = ("first_paint", "first_contentful_paint", "dom_content_loaded", "ready", "slowest_api")


def new_context(browser: Browser, state: StorageState | None = None) -> BrowserContext:
    return browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}, storage_state=state)


def sign_in(browser: Browser, base: str, username: str, password: str) -> tuple[StorageState, float]:
    """Sign in as a user does: open `/`, be sent to the sign-in page, submit its form. Returns the
    signed-in state (the session cookie, the CSRF value) for fresh contexts, and the ms from the
    submit until the dashboard was ready (Argon2id at the county included)."""
    context = new_context(browser)
    page = context.new_page()
    page.goto(base + "/")
    page.wait_for_url("**/login?next=*")
    page.fill('[data-testid="username"]', username)
    page.fill('[data-testid="password"]', password)
    started = time.perf_counter()
    page.click('[data-testid="submit"]')
    page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
    took = (time.perf_counter() - started) * 1000
    state = context.storage_state()
    context.close()
    return state, took


def measure(page: Page, base: str) -> dict[str, Any]:
    page.goto(base + "/")
    page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
    timing: dict[str, Any] = page.evaluate(TIMING)
    return timing


def screenshot(page: Page, base: str, path: Path) -> None:
    """The dashboard at a township's first village with a member's card open, as docs/ shows it."""
    page.goto(base + "/")
    page.wait_for_selector('body[data-ready="1"]')
    page.click('#children tr[data-child-id="t1"] a')
    page.wait_for_selector('#level[data-id="t1"]')
    page.click('#children tr[data-child-id="t1v1"] a')
    page.wait_for_selector('#level[data-id="t1v1"]')
    page.wait_for_selector('body[data-ready="1"]')
    page.click('[data-testid="member-list"] tbody tr:nth-child(2)')
    page.wait_for_selector("#card[data-member-id]")
    page.wait_for_selector('body[data-ready="1"]')
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--townships", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshot", type=Path, help="Also save a full-page screenshot here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        engine = build_county(Path(tmp), members=args.members, townships=args.townships)
        built = time.perf_counter() - started
        print(f"county: {args.members} members, {args.townships} townships, built in {built:.1f} s")
        analyst = account(engine)
        try:
            with serve(engine) as base, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                state, took = sign_in(browser, base, analyst.username, analyst.password)
                print(f"signed in as {analyst.username} (analyst) through /login: {took:.0f} ms to ready")
                runs = []
                for _ in range(args.runs):
                    context = new_context(browser, state)
                    runs.append(measure(context.new_page(), base))
                    context.close()
                print("ms          " + "  ".join(f"{c:>22}" for c in COLUMNS))
                for i, run in enumerate(runs, 1):
                    print(f"run {i:<7} " + "  ".join(f"{run[c]:>22.0f}" for c in COLUMNS))
                print(
                    "median      "
                    + "  ".join(f"{statistics.median(r[c] for r in runs):>22.0f}" for c in COLUMNS)
                )
                print(f"API requests per load: {runs[0]['api_requests']}")
                if args.screenshot:
                    context = new_context(browser, state)
                    screenshot(context.new_page(), base, args.screenshot)
                    context.close()
                    print(f"screenshot: {args.screenshot}")
                browser.close()
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
