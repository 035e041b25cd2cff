"""Chaos soak: 21 branch nodes recording, the county ingesting, while a seeded schedule kills
processes, cuts links and tampers with JetStream; then every node's log must equal its archive.

    python -m bench.soak                          # 10 minutes, 21 nodes, SQLite
    python -m bench.soak --minutes 30 --db both   # the long run, on SQLite and on PostgreSQL
    python -m bench.soak --faults node_kill,link_cut --minutes 2 --nodes 4 --json

It starts its own nats-server (free port, temp store), one TCP proxy per node in front of it
(bench/proxy.py, in this process), `tongxin county serve` and one `tongxin node serve` per node
(enrolled with `node init` + `county enrol-node`); records `--rate` events/s at every node
through its HTTP API; and injects the faults of `--faults` (bench/soak_faults.py lists them)
for `--minutes`. Then it stops the load, times how long the county takes to converge after the
last fault, stops everything and checks (bench/soak_check.py): per node the archive's (seq,
hash) list equals the node's log exactly, nothing lost, nothing doubled, every acknowledged event
archived, and the live digest equals a rebuild's. Prints what it did and a table (`--json`: the
results as JSON on stdout, the rest on stderr). Exit code 0: all checks passed; 1: a check
failed or it did not converge within --converge-timeout; 3: the checks passed but some fault
kinds asked for could not be injected on this build (named in the table).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.soak_check import Converged, end_check, wait_converged
from bench.soak_cluster import Cluster, Say, Settings, detect_features
from bench.soak_db import database, postgres_up
from bench.soak_faults import KINDS, NEEDS, Chaos
from bench.soak_load import Load
from bench.soak_report import print_table, verdict

err = Console(stderr=True, soft_wrap=True)


def available(kinds: tuple[str, ...], commands: frozenset[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The kinds this build can inject, and why each other one cannot be."""
    missing = {k: [c for c in NEEDS.get(k, ()) if c not in commands] for k in kinds}
    unavailable = {
        k: "no `tongxin node " + "`, `".join(m) + "` on this build" for k, m in missing.items() if m
    }
    return tuple(k for k in kinds if k not in unavailable), unavailable


@contextlib.contextmanager
def work_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=False)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="tongxin-soak-") as tmp:
        yield Path(tmp)


async def soak(settings: Settings, db: str, say: Say, keep: Path | None = None) -> dict[str, Any]:
    """One soak on one database (`sqlite` or `postgresql`); the results as a JSON-able dict."""
    features = await asyncio.to_thread(detect_features)
    kinds, unavailable = available(settings.faults, features.node_commands)
    result: dict[str, Any] = {
        "db": db,
        "settings": {**asdict(settings), "faults": list(settings.faults)},
        "features": {
            "node_commands": sorted(features.node_commands),
            "node_repair_grace": features.node_repair_grace,
            "county_repair_grace": features.county_repair_grace,
        },
        "unavailable": unavailable,
    }
    for kind, why in unavailable.items():
        say(f"  [{db}] fault {kind} not injected: {why}")
    with work_dir(keep) as root, database(db, root) as db_url:
        result["work_dir"] = str(root)
        cluster = Cluster(settings, root, db_url, say, features)
        load: Load | None = None
        try:
            started = time.monotonic()
            await cluster.start()
            urls = {n: cluster.node_url(n) for n in cluster.ids}
            load = Load(
                urls,
                settings.rate,
                settings.seed,
                cluster.tokens,
                cluster.county_token,
            )
            await load.record_preamble()
            took = time.monotonic() - started
            say(f"  [{db}] up in {took:.1f} s: NATS {cluster.nats.url}, county {cluster.county_url}")
            plan = f"{len(cluster.ids)} nodes at {settings.rate:g}/s; chaos for {settings.minutes:g} min"
            say(f"  [{db}] {plan}")
            chaos = Chaos(cluster, load, kinds, settings.seed, say)
            await _chaos(settings, cluster, load, chaos, say)
            quiet_at = time.monotonic()
            converged = await wait_converged(cluster, load, settings.converge_timeout, say)
            _converge_figures(result, converged, quiet_at, chaos)
            state = "converged" if converged.converged else "NOT converged"
            say(f"  [{db}] {state} in {converged.seconds:.1f} s after the load stopped")
            result["exit_codes"] = await cluster.stop_services()
            checked = await asyncio.to_thread(end_check, cluster, load)
            _figures(result, chaos, load, checked)
        finally:
            if load is not None:
                load.close()
            await cluster.stop()
    result["verdict"] = verdict(result)
    return result


async def _chaos(settings: Settings, cluster: Cluster, load: Load, chaos: Chaos, say: Say) -> None:
    """Load and faults for `--minutes`; a line of progress every 30 s."""
    stop = asyncio.Event()
    seconds = settings.minutes * 60
    loading = asyncio.create_task(load.run(stop))
    progress = asyncio.create_task(_progress(cluster, load, chaos, say))
    try:
        await chaos.run(seconds, settings.gap)
        left = seconds - (time.monotonic() - chaos.began)
        if left > 0:
            await asyncio.sleep(left)
    finally:
        stop.set()
        progress.cancel()
        await asyncio.gather(loading, progress, return_exceptions=True)


async def _progress(cluster: Cluster, load: Load, chaos: Chaos, say: Say) -> None:
    while True:
        await asyncio.sleep(30)
        try:
            items = (await load.county(f"{cluster.county_url}/api/v1/nodes"))["items"]
            archived = str(sum(int(i.get("last_seq") or 0) for i in items))
        except Exception:
            archived = "? (county down)"
        at = time.monotonic() - chaos.began
        acked = load.counts["acknowledged"]
        say(f"  t+{at:6.1f}s  progress: acknowledged {acked}, archived {archived}, faults {len(chaos.log)}")


def _converge_figures(result: dict[str, Any], converged: Converged, quiet_at: float, chaos: Chaos) -> None:
    done_at = quiet_at + converged.seconds
    result["converged"] = converged.converged
    result["converge_s"] = converged.seconds  # after the load stopped (the last fault had ended)
    result["converge_after_last_fault_s"] = round(done_at - chaos.last_end, 1) if chaos.log else None
    result["last_fault"] = chaos.log[-1].kind if chaos.log else None
    result["still_waiting"] = converged.waiting


def _figures(result: dict[str, Any], chaos: Chaos, load: Load, checked: Any) -> None:
    result["faults"] = dict(Counter(f.kind for f in chaos.log if f.injected))
    result["faults_failed"] = dict(Counter(f.kind for f in chaos.log if not f.injected))
    result["fault_log"] = [asdict(f) for f in chaos.log]
    result["load"] = dict(load.counts)
    result["recorded"] = checked.total("logged")
    result["archived"] = checked.total("archived")
    for name in ("lost", "doubled", "mismatched", "ack_missing"):
        result[name] = checked.total(name)
    result["acknowledged_checked"] = sum(len(a) for a in load.acknowledged.values())
    result["nodes_equal"] = sum(1 for n in checked.nodes if n.equal)
    result["nodes_unequal"] = [asdict(n) for n in checked.nodes if not n.equal]
    result["quarantined"] = checked.quarantined
    result["garbage_published"], result["stolen"] = chaos.garbage, chaos.stolen
    result["digest"] = {
        "live": checked.digest_live,
        "rebuilt": checked.digest_rebuilt,
        "equal": checked.digest_equal,
    }


def parse_faults(text: str) -> tuple[str, ...]:
    if text in ("all", ""):
        return KINDS if text == "all" else ()
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kind(s) {unknown}; known: {', '.join(KINDS)}")
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="chaos duration (10)")
    parser.add_argument("--nodes", type=int, default=21, help="branch nodes (21)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the fault schedule (2026)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--rate", type=float, default=2.0, help="events/s recorded per node (2)")
    kinds = ",".join(KINDS)
    parser.add_argument(
        "--faults", type=parse_faults, default=KINDS, help=f"kinds, comma-separated, 'all' or '': {kinds}"
    )
    parser.add_argument("--gap", type=float, default=8.0, help="mean seconds between faults (8)")
    parser.add_argument(
        "--repair-grace", type=float, default=3.0, help="for node serve and county serve, where they have it"
    )
    parser.add_argument("--converge-timeout", type=float, default=300.0, help="seconds (300)")
    parser.add_argument(
        "--open-nats",
        action="store_true",
        help="NATS without users (the before half of a pair with an older build)",
    )
    parser.add_argument("--keep", type=Path, help="work in this new directory and keep it (logs, stores)")
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    args = parser.parse_args(argv)
    settings = Settings(
        args.minutes,
        args.nodes,
        args.seed,
        args.rate,
        args.faults,
        args.gap,
        args.repair_grace,
        args.converge_timeout,
        args.open_nats,
    )
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    say = err.print if args.json else Console(soft_wrap=True).print
    results = []
    for db in dbs:
        if db == "postgresql" and (why := postgres_up()) is not None:
            say(f"postgresql: skipped — {why}")
            results.append({"db": db, "skipped": why, "verdict": "skipped"})
            continue
        keep = None if args.keep is None else args.keep / db
        try:
            results.append(_run(soak(settings, db, lambda s: say(s, highlight=False, markup=False), keep)))
        except Exception as exc:  # the run broke: reported as a failure, with what broke
            err.print_exception()
            results.append({"db": db, "error": repr(exc)[:500], "verdict": "FAIL"})
    print_table(results, Console(stderr=True) if args.json else Console())
    if args.json:
        import json

        sys.stdout.write(json.dumps({"machine": _machine(), "results": results}, ensure_ascii=False) + "\n")
    verdicts = [r["verdict"] for r in results]
    return 1 if "FAIL" in verdicts else 3 if "INCOMPLETE" in verdicts else 0


def _run(coro: Any) -> dict[str, Any]:
    """asyncio.run, with SIGTERM cancelling the soak like Ctrl-C (its finally stops every process)."""

    async def guarded() -> dict[str, Any]:
        task = asyncio.ensure_future(coro)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        found: dict[str, Any] = await task
        return found

    return asyncio.run(guarded())


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load": os.getloadavg()[0], "nats_server": shutil.which("nats-server")}


if __name__ == "__main__":
    raise SystemExit(main())
