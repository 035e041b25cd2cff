"""bench.county's audit step: `tongxin audit verify` over the archive the e2e step filled."""

from __future__ import annotations

import json
import subprocess
import time

from bench.county_mix import COUNTY
from bench.county_steps import Ctx, Row, tongxin

TARGET = 15_000


def audit_rows(ctx: Ctx, db: str, url: str) -> list[Row]:
    """The whole command as an auditor runs it (start-up included), timed from outside."""
    cmd = [tongxin(), "audit", "verify", "--db", url, "--county-id", COUNTY, "--json"]
    ctx.say(f"    {' '.join(cmd[1:3])} over the e2e archive")
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, cwd=ctx.root, timeout=ctx.args.timeout)
    dt = time.perf_counter() - t0
    try:
        report = json.loads(done.stdout)
    except ValueError:
        tail = done.stderr.decode(errors="replace")[-500:]
        return [Row(db, "audit verify", None, "", ok=False, note=f"exit {done.returncode}: {tail}")]
    checked, ok = int(report["checked"]), bool(report["ok"])
    rate = checked / dt
    note = f"{checked:,} envelopes of {len(report['nodes'])} nodes in {dt:.1f}s (process start-up included)"
    return [
        Row(db, "audit verify (2 workers)", rate, "envelopes/s", f"≥ {TARGET:,}", rate >= TARGET, note),
        Row(db, "  verdict", None, "", "everything verifies", ok and done.returncode == 0,
            f"exit {done.returncode}, {len(report['faults'])} fault(s)"),
    ]  # fmt: skip
