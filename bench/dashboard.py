"""The county dashboard's first paint and full render in headless Chromium, on demo-sized data.

    python -m bench.dashboard [--members 3000] [--townships 8] [--runs 5] [--screenshot /tmp/dashboard.png]

Records a county history at real branch nodes (`tests/browser/dashboard_county.py`), ingests it
into a fresh SQLite database, serves `create_app` with uvicorn and loads `/` `--runs` times in
Debian's Chromium (a fresh context each time, so nothing is cached). Prints, per run and as the
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

from playwright.sync_api import Page, sync_playwright

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
        try:
            with serve(engine) as base, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                runs = []
                for _ in range(args.runs):
                    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
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
                    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
                    screenshot(context.new_page(), base, args.screenshot)
                    context.close()
                    print(f"screenshot: {args.screenshot}")
                browser.close()
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
