"""bench.county's audit step: `tongxin audit verify` over the archive the e2e step filled, then
`tongxin audit export` of all of it and `tongxin audit verify --export` of that file."""

from __future__ import annotations

import json
import subprocess
import time

from bench.county_mix import COUNTY
from bench.county_steps import Ctx, Row, tongxin

TARGET = 15_000


def _timed(ctx: Ctx, cmd: list[str]) -> tuple[subprocess.CompletedProcess[bytes], float]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, cwd=ctx.root, timeout=ctx.args.timeout)
    return done, time.perf_counter() - t0


def audit_rows(ctx: Ctx, db: str, url: str) -> list[Row]:
    """The whole command as an auditor runs it (start-up included), timed from outside."""
    return _verify_db(ctx, db, url) + _export(ctx, db, url)


def _verify_db(ctx: Ctx, db: str, url: str) -> list[Row]:
    cmd = [tongxin(), "audit", "verify", "--db", url, "--county-id", COUNTY, "--json"]
    ctx.say(f"    {' '.join(cmd[1:3])} over the e2e archive")
    done, dt = _timed(ctx, cmd)
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


def _export(ctx: Ctx, db: str, url: str) -> list[Row]:
    """Every node exported (the county key in the bench's directory signs it), then the file
    verified as an auditor would, strict JSON included."""
    out = ctx.root / f"audit-export-{db}.zip"
    ctx.say("    audit export and verify --export over the e2e archive")
    export = [tongxin(), "audit", "export", "--db", url, "--county-id", COUNTY, "--out", str(out)]
    done, dt = _timed(ctx, export)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-500:]
        return [Row(db, "audit export", None, "", ok=False, note=f"exit {done.returncode}: {tail}")]
    size = out.stat().st_size
    try:
        checked_by, dt_v = _timed(ctx, [tongxin(), "audit", "verify", "--export", str(out), "--json"])
    finally:
        out.unlink(missing_ok=True)
    try:
        report = json.loads(checked_by.stdout)
    except ValueError:
        tail = f"exit {checked_by.returncode}: " + checked_by.stderr.decode(errors="replace")[-500:]
        return [Row(db, "audit verify --export", None, "", ok=False, note=tail)]
    checked = int(report["checked"])
    note = f"{checked:,} envelopes, {size / 2**20:.1f} MiB zip, in {dt:.1f}s (start-up included)"
    faults = len(report["faults"])
    verdict = f"exit {checked_by.returncode}, {faults} fault(s) in {dt_v:.1f}s (start-up included)"
    ok = bool(report["ok"]) and checked_by.returncode == 0
    rate, target = checked / dt_v, f"≥ {TARGET:,}"
    return [
        Row(db, "audit export", checked / dt, "envelopes/s", "", None, note),
        Row(db, "audit verify --export (2 workers)", rate, "envelopes/s", target, ok and rate >= TARGET,
            verdict if ok else f"not everything verifies: {verdict}"),
    ]  # fmt: skip
