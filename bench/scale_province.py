"""bench.scale's province part (issue 17): C counties × N simulated nodes under one province, on
this machine — real servers, streams, leafnodes, sourcing and `tongxin province ingest`.

    python -m bench.scale_province [--counties 100] [--province-nodes 21] [--province-events 100] [--json]

One province nats-server and one per county (`tongxin.natsd_province.ProvinceServers`: a JetStream
domain each, leafnodes to the province), each county's stream (`ensure_stream`) filled with the
simulated nodes' signed envelopes (`bench.scale_province_feed`, not timed); the province's own
enrolment of every node in one SQLite file per county (timed apart). Then timed: TONGXIN_PROVINCE
sourcing every county until it holds C·N·E messages; `tongxin province ingest --once` as a child
process until it exits (events/s, CPU per event and peak memory from its rusage, the ratio to the
county's e2e rate of the same run); every county's database verified; the servers' memory.
Measures and prints; never asserts. Everything is under a temp dir and every server is stopped in
a `finally`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.county import failed, machine, result, show
from bench.county_steps import Row
from bench.scale_province_feed import smallest_events
from bench.scale_province_site import DB, Site


def add_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--counties", type=int, default=100, help="counties, a nats-server each (100)")
    add("--province-nodes", type=int, default=21, help="simulated nodes per county (21)")
    add("--province-events", type=int, default=100, help="events per node (100)")
    add("--province-villages", type=int, default=10, help="village branches per county (10)")
    add("--province-timeout", type=float, default=900.0, help="per wait: sourcing, ingest (900 s)")


def province_rows(
    root: Path, args: argparse.Namespace, say: Callable[[str], None], baseline: float | None
) -> list[Row]:
    """Every province line; a step that fails is a MISS line with its error, the next still runs
    (a failed start ends the run: nothing after it could)."""
    a = args
    say(f"province: {a.counties} counties × {a.province_nodes} nodes × {a.province_events} events")
    least = smallest_events(a.province_nodes, a.province_villages)
    if a.province_events < least:
        why = f"--province-events must be at least {least} (the org tree the office's node records first)"
        return [Row(DB, "province", None, "", ok=False, note=why)]
    site, rows = Site(root / "scale-province", args), list[Row]()
    try:
        try:
            rows.append(site.start())
        except Exception as exc:
            return [failed(DB, f"starting {a.counties + 1} nats-servers", exc)]
        steps: list[tuple[str, Callable[[], Row | list[Row]]]] = [
            ("signing and publishing the nodes' envelopes", lambda: site.fill(say)),
            ("the province's enrolment", site.enrol),
            ("sourcing", site.sourcing),
            ("province ingest", lambda: site.ingest(baseline)),
            ("verifying the province's databases", site.verified),
            ("memory", site.memory),
        ]
        for what, step in steps:
            say(f"    {what}")
            try:
                got = step()
                rows += got if isinstance(got, list) else [got]
            except Exception as exc:
                rows.append(failed(DB, what, exc))
    finally:
        site.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scale_province", description=__doc__.split("\n\n")[0])
    add_options(ap)
    ap.add_argument("--json", action="store_true", help="write the results as JSON to stdout")
    args = ap.parse_args(argv)
    if args.province_events < (least := smallest_events(args.province_nodes, args.province_villages)):
        ap.error(f"--province-events must be at least {least} (the org tree the office's node records first)")
    err = Console(stderr=True)
    info = machine()
    with tempfile.TemporaryDirectory(prefix="tongxin-bench-province-") as tmp:
        rows = province_rows(Path(tmp), args, lambda s: err.print(s, highlight=False), None)
    info["load at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    show(rows, info, err if args.json else Console(), "Tongxin province")
    if args.json:
        out: dict[str, Any] = {"machine": info, "params": vars(args), "results": [result(r) for r in rows]}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
