"""Province-wide figures and roster counts: each county's, read from the county's database at the
province with the county's own queries, and the province's total as their sum.

Only counts and sums leave a county's database here — the funds (五个一点) and the pioneer work
(`services.county.queries.figures`), the roster's members by status
(`services.county.queries.roster.roster_summary`): no member row, name, ID number or phone.
Every figure added up is a count or a sum of fen or people (a balance is received − spent, itself
a sum), so the province's total of each is the sum of the counties'.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.county.queries.figures import funds, pioneer
from services.county.queries.roster import roster_summary
from services.province.store import ProvinceStore


def added(a: Any, b: Any) -> Any:
    """Two figures of the same shape added: numbers summed, dicts key by key (a key one lacks
    counts as zero)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: added(a.get(k), b.get(k)) for k in {**a, **b}}
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    raise TypeError(f"cannot add {type(a).__name__} and {type(b).__name__}")


def total(parts: list[Any]) -> Any:
    out: Any = None
    for part in parts:
        out = added(out, part)
    return out


def county_figures(
    store: ProvinceStore, county_id: str, date_from: date | None, date_to: date | None
) -> dict[str, Any]:
    with store.engines[county_id].connect() as conn:
        return {
            "funds": funds(conn, date_from=date_from, date_to=date_to)["total"],
            "pioneer": pioneer(conn, date_from=date_from, date_to=date_to)["total"],
        }


def province_figures(
    store: ProvinceStore, date_from: date | None = None, date_to: date | None = None
) -> dict[str, Any]:
    """Per county and the province's total (the counties in the province's order)."""
    counties = [{"county_id": c, **county_figures(store, c, date_from, date_to)} for c in store.county_ids]
    return {
        "filters": {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "counties": counties,
        "province": {k: total([c[k] for c in counties]) for k in ("funds", "pioneer")},
    }


def county_roster(store: ProvinceStore, county_id: str) -> dict[str, Any]:
    with store.engines[county_id].connect() as conn:
        summary = roster_summary(conn)
    return {"county_id": county_id, "total": summary["total"], "by_status": summary["by_status"]}


def province_roster(store: ProvinceStore) -> dict[str, Any]:
    """Members by status per county and in the province (counts only)."""
    counties = [county_roster(store, c) for c in store.county_ids]
    return {
        "counties": counties,
        "province": {
            "total": sum(c["total"] for c in counties),
            "by_status": total([c["by_status"] for c in counties]),
        },
    }
