"""`tongxin demo` with its default county: time until ready, then the dashboard's first paint.

    python -m bench.demo [--runs 5] [--members 3000]

Starts `tongxin demo` (default settings, free ports, a temporary data dir) as a user would, and
reads the time it reports from its start to "ready" (NATS, the county and the 22 node processes
up, the seeded history recorded through the nodes' HTTP APIs and archived at the county). Then
signs in through the dashboard's page as the demo's analyst (the password it prints), and loads
the dashboard `--runs` times in Debian's Chromium (a fresh context each time, signed in) and prints
first paint, first contentful paint and the full render (`tx:ready`), per run and as the median.
Measures and prints; never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.dashboard import COLUMNS, measure, new_context, sign_in
from tests.browser.conftest import ARGS, CHROMIUM
from tests.e2e.demo_process import DemoProcess


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--members", type=int, default=3000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        demo = DemoProcess(Path(tmp) / "demo", "--members", str(args.members))
        try:
            demo.wait_ready()
            wall = time.perf_counter() - started
            for line in demo.lines:
                if "all up in" in line or "archived" in line or "ready in" in line:
                    print(line.strip())
            print(f"ready, measured from outside: {wall:.1f} s (target < 60 s)")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                state, took = sign_in(browser, demo.county, "analyst", demo.passwords["analyst"])
                print(f"signed in as analyst through /login: {took:.0f} ms to ready")
                runs = []
                for _ in range(args.runs):
                    context = new_context(browser, state)
                    runs.append(measure(context.new_page(), demo.county))
                    context.close()
                browser.close()
            print("ms          " + "  ".join(f"{c:>22}" for c in COLUMNS))
            for i, run in enumerate(runs, 1):
                print(f"run {i:<7} " + "  ".join(f"{run[c]:>22.0f}" for c in COLUMNS))
            medians = "  ".join(f"{statistics.median(r[c] for r in runs):>22.0f}" for c in COLUMNS)
            print(f"median      {medians}")
            print("first paint target: < 1000 ms")
            demo.stop()
        finally:
            demo.kill()


if __name__ == "__main__":
    main()
