"""Past one machine (issue 17): the county on a 3-server JetStream cluster against one server,
1 → 2 → 4 ingest workers, a province over a simulated 100 counties, and a capacity table.

    python -m bench.scale [--events N] [--workers 1,2,4] [--skip-cluster] [--skip-province] [--json]

Measures and prints; never asserts. Every figure is set against the single-server, single-worker
run measured in the same sitting (this machine's absolute rates move ~1.8× between runs). Each
run has its own fresh nats-server(s) (with users, unless `--open-nats`) and its own fresh
PostgreSQL database on 127.0.0.1:5432, dropped afterwards; all in a temp dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bench.county import database, failed, machine, result, show
from bench.county_mix import e2e_items, make_nodes
from bench.county_steps import Ctx, Row, envelopes
from bench.nats_users import OPEN_HELP, BenchNats
from bench.scale_capacity import add_options as capacity_options
from bench.scale_capacity import capacity, show_capacity
from bench.scale_province import add_options as province_options
from bench.scale_province import province_rows
from bench.scale_steps import Run, e2e_run, on_fresh_nats, raw_rate, slug

err = Console(stderr=True)
DB = "postgresql"


def record(ctx: Ctx) -> None:
    """The nodes, recorded once (not timed): every run forwards copies of them."""
    a = ctx.args
    ctx.say(f"recording {a.nodes} nodes × {a.events:,} events (not timed)")
    items = lambda k: e2e_items(k, a.events, a.nodes, a.villages)  # noqa: E731
    ctx.e2e_nodes = make_nodes(ctx.root / "e2e-nodes", a.nodes, items, ctx.say)
    ctx.envelopes = envelopes(ctx)


def e2e(ctx: Ctx, label: str, cluster: bool, workers: int) -> Run:
    bus = on_fresh_nats(ctx, f"e2e-{label}", cluster)
    try:
        with database(DB, ctx.root, slug(label)) as url:
            return e2e_run(ctx, label, bus, url, workers)
    finally:
        bus.stop()


def raw(ctx: Ctx, label: str, cluster: bool) -> tuple[float, str]:
    bus = on_fresh_nats(ctx, f"raw-{label}", cluster)
    try:
        return raw_rate(ctx, label, bus)
    finally:
        bus.stop()


def run_rows(
    run: Run, base: Run | None, name: str, target: str = "", floor: float | None = None
) -> list[Row]:
    """The rate (and its ratio to the base run), the archive's completeness, the digest's equality."""
    rows = [
        Row(
            run.label,
            name,
            run.rate,
            "events/s",
            "",
            None,
            f"{run.events:,} in {run.seconds:.1f}s; {run.cpu_note()}",
        )
    ]
    if base is not None:
        ratio = run.rate / base.rate
        ok = None if floor is None else ratio >= floor
        cpu = f"CPU per event {run.cpu_per_event():,.0f} µs against {base.cpu_per_event():,.0f} µs"
        rows.append(Row(run.label, f"  ÷ {base.label}", ratio, "ratio", target, ok, cpu))
    complete = f"archived {run.archived:,} of {run.events:,}, quarantined {run.quarantined}, held {run.held}"
    if run.shares:  # the busiest worker's share of the nodes bounds what W workers can gain
        cap = sum(run.shares) / max(run.shares)
        complete += f"; nodes per worker {run.shares}: the split allows at most {cap:.2f}×"
    rows.append(
        Row(
            run.label,
            "  every envelope archived",
            run.archived,
            "rows",
            f"= {run.events:,}",
            run.complete,
            complete,
        )
    )
    if base is not None and base is not run:
        same = run.digest == base.digest
        rows.append(
            Row(
                run.label,
                f"  digest == {base.label}'s",
                None,
                "",
                "equal",
                same,
                f"{run.digest[:12]}… / {base.digest[:12]}…",
            )
        )
    return rows


def measured(ctx: Ctx, rows: list[Row], step: str, fn: Callable[[], list[Row]]) -> None:
    err.print(f"[bold]{step}[/]")
    try:
        rows += fn()
    except BaseException as exc:  # report it, go on with the next step
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        rows.append(failed(DB, step, exc))


def run(args: argparse.Namespace) -> tuple[list[Row], list[Row]]:
    rows: list[Row] = []
    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="tongxin-bench-scale-") as tmp:
        root = Path(tmp)
        say = lambda s: err.print(s, highlight=False)  # noqa: E731
        # no NATS of its own: every run starts fresh servers (`on_fresh_nats`), the nodes let in there
        ctx = Ctx(root, "", args, say, BenchNats(root / "unused", open_access=True))
        try:
            record(ctx)
        except Exception as exc:
            return [failed("-", "recording the nodes", exc)], []
        raws: dict[str, float] = {}

        def baseline() -> list[Row]:
            raws["R1"], note = raw(ctx, "R1", cluster=False)
            runs["R1"] = base = e2e(ctx, "R1 ×1", cluster=False, workers=1)
            return [
                Row("R1", "raw JetStream: publish_async ∥ fetch+ack", raws["R1"], "msgs/s", "", None, note),
                *run_rows(base, None, "county e2e, one server, one worker"),
                Row(
                    "R1 ×1",
                    "  ÷ raw JetStream",
                    base.rate / raws["R1"],
                    "ratio",
                    "",
                    None,
                    "same envelopes, subjects, Msg-Ids",
                ),
            ]

        measured(ctx, rows, "one server, one worker (the base of every ratio)", baseline)
        base = runs.get("R1")
        if not args.skip_cluster:

            def cluster() -> list[Row]:
                raws["R3"], note = raw(ctx, "R3", cluster=True)
                runs["R3"] = r3 = e2e(ctx, "R3 ×1", cluster=True, workers=1)
                out = [Row("R3", "raw JetStream, 3 servers, R3", raws["R3"], "msgs/s", "", None, note)]
                if "R1" in raws:
                    out.append(
                        Row("R3", "  ÷ raw on one server", raws["R3"] / raws["R1"], "ratio", "", None, "")
                    )
                return out + run_rows(r3, base, "county e2e, 3 servers, R3", "≥ 0.80", 0.8)

            measured(ctx, rows, "three servers (R3), one worker", cluster)
        for w in args.workers:
            if w == 1:
                continue

            def workers(w: int = w) -> list[Row]:
                runs[f"W{w}"] = r = e2e(ctx, f"R1 ×{w}", cluster=False, workers=w)
                return run_rows(r, base, f"county e2e, {w} ingest workers")

            measured(ctx, rows, f"one server, {w} ingest workers", workers)
        if not args.skip_province:
            rate = base.rate if base is not None else None
            measured(
                ctx,
                rows,
                f"province over {args.counties} counties",
                lambda: province_rows(root, args, say, rate),
            )
    return rows, capacity(runs, rows, args)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    add = ap.add_argument
    add("--nodes", type=int, default=21, help="branch nodes of the county (21)")
    add("--events", type=int, default=10_000, help="events per node (10,000)")
    add("--villages", type=int, default=200, help="village branches; 10 per township (200)")
    add(
        "--workers",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2, 4],
        help="worker counts (1,2,4)",
    )
    add("--skip-cluster", action="store_true", help="leave out the 3-server runs")
    add("--skip-province", action="store_true", help="leave out the province")
    add("--timeout", type=float, default=900.0, help="per wait for the county to catch up (900 s)")
    add("--open-nats", action="store_true", help=OPEN_HELP)
    add("--json", action="store_true", help="write the results as JSON to stdout")
    province_options(ap)
    capacity_options(ap)
    args = ap.parse_args(argv)
    if args.events < args.villages + args.nodes + 60:
        ap.error(
            f"--events must exceed the org tree the first node records ({args.villages + args.nodes + 1})"
        )
    if any(not 1 <= w <= 16 for w in args.workers):
        ap.error("--workers: each count from 1 to 16 (the partitions)")
    info = machine()
    info["nats"] = "open (--open-nats)" if args.open_nats else "users"
    rows, paper = run(args)
    info["load at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    console = err if args.json else Console()
    show(rows, info, console, "Tongxin past one machine")
    show_capacity(paper, console)
    if args.json:
        params = {k: v for k, v in vars(args).items() if k != "json"}
        out = {
            "machine": info,
            "params": params,
            "results": [result(r) for r in rows],
            "capacity": [result(r) for r in paper],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
