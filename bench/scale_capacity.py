"""bench.scale's capacity table on paper: a real province sized from this run's measurements.

The workload is an assumption, stated in every line's note and set by options: `--paper-counties`
counties of `--paper-outstations` outstations, each recording `--paper-events` events a day (a
busy outstation; docs/operations.md §17.4), and the hardest hour the county must absorb: every
node back after a week offline, the week caught up in an hour. What is measured comes from this
run: the CPU per event of every part (ingest, PostgreSQL, nats-server), the database's and the
stream's bytes per event, and the province ingest's CPU per event. Cores are CPU seconds per
second at the stated rate; disk is bytes per event times events, without compression, backups
(another copy each, §4) or headroom.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.county_steps import Row
from bench.scale_steps import Run
from shared.wire import STREAM_MAX_AGE_S

DAY, YEAR = 86_400, 365
GB = 1e9


def add_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--paper-counties", type=int, default=100, help="counties of the province on paper (100)")
    add("--paper-outstations", type=int, default=30, help="outstations per county on paper (30)")
    add("--paper-events", type=int, default=1000, help="events per outstation per day on paper (1,000)")


def _province(rows: list[Row], unit: str) -> float | None:
    """The province ingest's first figure in `unit` (µs/event: its CPU per event; events/s: its
    rate), from bench.scale_province's rows."""
    for r in rows:
        if r.db == "province" and r.unit == unit and "ingest" in r.name and r.value is not None:
            return float(r.value)
    return None


def capacity(runs: dict[str, Run], rows: list[Row], args: argparse.Namespace) -> list[Row]:
    base, r3 = runs.get("R1"), runs.get("R3")
    if base is None:
        return []
    counties, outstations, per_day = args.paper_counties, args.paper_outstations, args.paper_events
    county_day = outstations * per_day
    province_day = counties * county_day
    burst = 7 * county_day / 3600  # a week caught up in an hour
    kept_days = STREAM_MAX_AGE_S / DAY
    work = f"{outstations} outstations × {per_day:,} events/day"
    nats_us = (r3 or base).cpu_per_event("nats-server")
    county_us = base.cpu_per_event("ingest") + base.cpu.get("PostgreSQL", 0.0) / base.events * 1e6
    db_b, stream_b = base.db_bytes / base.events, base.stream_bytes / base.events
    measured_us, prov_rate = _province(rows, "µs/event"), _province(rows, "events/s")
    prov_us = measured_us or county_us
    source = "measured at the province" if measured_us else "the county's: no province figure"
    paper = [
        ("county", "events a day", county_day, "events", work),
        ("county", "  on average", county_day / DAY, "events/s", ""),
        (
            "county",
            "  the hardest hour",
            burst,
            "events/s",
            "every node back after a week offline, caught up in an hour",
        ),
        (
            "county",
            "cores, county ingest + PostgreSQL",
            burst * county_us / 1e6,
            "cores",
            f"{county_us:,.0f} µs/event (R1 ×1) at the hardest hour",
        ),
        (
            "county",
            "cores, NATS",
            burst * nats_us / 1e6,
            "cores",
            f"{nats_us:,.0f} µs/event ({'the 3 servers together, R3' if r3 else 'one server'})",
        ),
        (
            "county",
            "a week of every node caught up in",
            7 * county_day / base.rate / 60,
            "min",
            f"at the measured {base.rate:,.0f} events/s (R1 ×1)",
        ),
        (
            "county",
            "servers",
            4,
            "machines",
            "3 NATS (R3) + 1 county (serve, ingest, PostgreSQL); 2 cores each",
        ),
        (
            "county",
            "database disk a year",
            county_day * YEAR * db_b / GB,
            "GB",
            f"{db_b:,.0f} B/event (PostgreSQL, measured)",
        ),
        (
            "county",
            "events stream disk, each NATS server",
            county_day * kept_days * stream_b / GB,
            "GB",
            f"{stream_b:,.0f} B/event, {kept_days:.0f} days kept",
        ),
        ("province", "events a day", province_day, "events", f"{counties} counties × {work}"),
        ("province", "  on average", province_day / DAY, "events/s", ""),
        ("province", "  the hardest hour", counties * burst, "events/s", "every county catching up at once"),
        (
            "province",
            "cores, province ingest",
            counties * burst * prov_us / 1e6,
            "cores",
            f"{prov_us:,.0f} µs/event ({source})",
        ),
        ("province", "  on average", province_day / DAY * prov_us / 1e6, "cores", ""),
        *(
            [
                (
                    "province",
                    "a week of every county caught up in",
                    7 * province_day / prov_rate / 3600,
                    "hours",
                    f"at the measured {prov_rate:,.0f} events/s (one province ingest)",
                )
            ]
            if prov_rate
            else []
        ),
        (
            "province",
            "servers",
            3 + 1 + 1,
            "machines",
            "3 NATS (R3) + 1 province ingest and API + 1 PostgreSQL, plus the counties' own; "
            "one ingest process is one core: past it, the catch-up takes the hours above",
        ),
        (
            "province",
            "database disk a year",
            province_day * YEAR * db_b / GB,
            "GB",
            "each county's archive and projections again, one database per county",
        ),
        (
            "province",
            "stream disk, each NATS server",
            7 * province_day * stream_b / GB,
            "GB",
            "a week unread (the province's stream keeps only what it has not ingested)",
        ),
    ]
    return [Row(level, name, float(value), unit, "", None, note) for level, name, value, unit, note in paper]


def show_capacity(paper: list[Row], console: Console) -> None:
    if not paper:
        return
    table = Table(title="Capacity on paper (assumed workload, measured costs)")
    for col in ("level", "line", "value", "unit", "from"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for r in paper:
        value: Any = "—" if r.value is None else f"{r.value:,.{2 if abs(r.value) < 100 else 0}f}"
        table.add_row(r.db, r.name, value, r.unit, r.note)
    console.print(table)
