"""The soak's verdict and its table (rich): one column per database run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bench.soak_faults import KINDS

ZERO = ("lost", "doubled", "mismatched", "ack_missing")
"""Figures that must be 0."""


def verdict(result: dict[str, Any]) -> str:
    """PASS; FAIL (a check failed or no convergence); INCOMPLETE (checks passed, but a fault kind
    asked for could not be injected); skipped."""
    if result.get("skipped"):
        return "skipped"
    if not result.get("converged") or not result.get("digest", {}).get("equal"):
        return "FAIL"
    if any(result.get(name) for name in ZERO):
        return "FAIL"
    if result.get("unavailable") or result.get("faults_failed"):
        return "INCOMPLETE"
    return "PASS"


def _faults(r: dict[str, Any], kind: str) -> str:
    if kind in r.get("unavailable", {}):
        return f"not injected ({r['unavailable'][kind]})"
    done = r.get("faults", {}).get(kind, 0)
    failed = r.get("faults_failed", {}).get(kind, 0)
    if kind not in r.get("settings", {}).get("faults", KINDS):
        return "—"
    return f"{done}" + (f" (+{failed} failed to inject)" if failed else "")


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    if r.get("skipped"):
        return [("skipped", r["skipped"])]
    if r.get("error"):
        return [("error", r["error"]), ("verdict", r["verdict"])]
    load = r.get("load", {})
    out = [(f"faults: {kind}", _faults(r, kind)) for kind in KINDS]
    out += [
        (
            "events posted / acknowledged",
            f"{_num(load.get('posted', 0))} / {_num(load.get('acknowledged', 0))}",
        ),
        (
            "… refused / no answer / ambiguous",
            f"{load.get('refused', 0)} / {load.get('error', 0)} / {load.get('ambiguous', 0)}",
        ),
        ("events recorded (in the nodes' logs)", _num(r.get("recorded", "?"))),
        ("events archived", _num(r.get("archived", "?"))),
        ("lost (must be 0)", _num(r.get("lost", "?"))),
        ("doubled (must be 0)", _num(r.get("doubled", "?"))),
        ("archived, not in the log (must be 0)", _num(r.get("mismatched", "?"))),
        ("acknowledged, not archived (must be 0)", _num(r.get("ack_missing", "?"))),
        ("nodes whose archive = log", f"{r.get('nodes_equal', '?')} of {r['settings']['nodes']}"),
        (
            "quarantined / garbage stored / stolen",
            f"{r.get('quarantined', '?')} / {r.get('garbage_published', '?')} / {r.get('stolen', '?')}",
        ),
        ("converged", "yes" if r.get("converged") else f"NO: {str(r.get('still_waiting', ''))[:300]}"),
        ("converge after the load stopped (s)", _num(r.get("converge_s", "?"))),
        (
            "… after the last fault ends (s)",
            f"{r.get('converge_after_last_fault_s', '?')} (last: {r.get('last_fault') or '-'})",
        ),
        ("exit codes at the stop (SIGTERM)", _codes(r.get("exit_codes", {}))),
        ("digest live = rebuilt", "equal" if r.get("digest", {}).get("equal") else "DIFFERENT / missing"),
        ("verdict", r["verdict"]),
    ]
    return out


def _codes(codes: dict[str, int | None]) -> str:
    odd = {name: code for name, code in codes.items() if code != 0}
    if not codes:
        return "?"
    return f"0 (all {len(codes)})" if not odd else ", ".join(f"{n} {c}" for n, c in odd.items())


def print_table(results: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="bench.soak", show_lines=False)
    table.add_column("")
    for r in results:
        table.add_column(r["db"], overflow="fold")
    lines = [dict(rows(r)) for r in results]
    labels: list[str] = []
    for line in lines:
        labels += [label for label in line if label not in labels]
    for label in labels:
        table.add_row(label, *(line.get(label, "") for line in lines))
    console.print(table)
