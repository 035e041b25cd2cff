"""Figures from the facts table: funds (五个一点), pioneer work and chambers (and, in
`education.py`, education).

Every figure can be limited to a period (`date_from`/`date_to` on the China date the event
occurred), an organisation, an outstation mode (of the fact's organisation) and a township
(the township committee at or above the fact's organisation), and grouped by org, mode,
township or month.

`known_at` (arrival time T) is not a filter here: as for every query, the connection given is then
a replay of what the county's projections held at T (`asof.KNOWN_AT`), so the facts table holds
only the events projected by T. Until 2026-12 figures filtered `received_at <= T` instead, which
counted an envelope that had arrived by T while it still waited behind a gap (or in quarantine).
A corrected event counts as its record in effect: now, its newest correction's; as of D, the one
valid at D (`versions.in_effect`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, literal_column, select

from services.county.projections import figures
from services.county.queries.asof import AsOf
from services.county.queries.common import (
    NONE_NAME,
    UNREGISTERED,
    OrgTree,
    load_tree,
    sort_key,
)
from services.county.queries.figures_spec import Tally, funds_section, pioneer_section
from services.county.queries.versions import in_effect
from shared.catalog.figures import FUND_TYPES, PIONEER_TYPES
from shared.errors import FieldError


class GroupBy(enum.StrEnum):
    ORG = "org"
    MODE = "mode"
    TOWNSHIP = "township"
    MONTH = "month"


@dataclass(frozen=True)
class FigureFilter:
    date_from: date | None = None
    date_to: date | None = None
    org: str | None = None
    mode: str | None = None
    township: str | None = None
    group_by: GroupBy | None = None
    known_at: str | None = None
    """Echoed only (canonical UTC text): the connection is already the replay up to it."""
    as_of: AsOf | None = None
    """Business time D: `date_to` is already at most D's China date; coverage reads the roster at D."""

    def echo(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "org": self.org,
            "mode": str(self.mode) if self.mode else None,
            "township": self.township,
            "group_by": str(self.group_by) if self.group_by else None,
            "known_at": self.known_at,
            "as_of": self.as_of.given if self.as_of else None,
        }

    def check(self, tree: OrgTree) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FieldError("from", f"{self.date_from} is after to ({self.date_to})")
        if self.township is not None:
            tree.check(self.township, "township", "township_committee")

    def keeps(self, tree: OrgTree, org_id: str) -> bool:
        """Whether an organisation's facts pass the mode and township filters."""
        if self.mode is not None and tree.mode(org_id) != str(self.mode):
            return False
        if self.township is not None:
            wanted = None if self.township == UNREGISTERED else self.township
            return tree.township_of(org_id) == wanted
        return True


def group_key(tree: OrgTree, group_by: GroupBy, org_id: str | None, month: str | None) -> tuple[Any, str]:
    """The group a fact (or a member, by outstation) falls in, and the group's name."""
    if group_by is GroupBy.ORG:  # None: a member attached to no outstation
        return org_id, tree.name(org_id) if org_id is not None else NONE_NAME
    if group_by is GroupBy.MODE:
        mode = tree.mode(org_id)
        return mode, mode or NONE_NAME
    if group_by is GroupBy.TOWNSHIP:
        tw = tree.township_of(org_id)
        return tw, tree.name(tw, NONE_NAME)
    return month, month or NONE_NAME


def _tallies(
    conn: Connection, tree: OrgTree, types: tuple[str, ...], f: FigureFilter
) -> tuple[Tally, dict[Any, tuple[str, Tally]]]:
    """Sum events, money and people by (type, category), overall and per group."""
    fc = figures.facts.c
    # literal arguments: SELECT and GROUP BY must render the same expression for PostgreSQL
    month = func.substr(fc.occurred_on, literal_column("1"), literal_column("7"))
    query = (
        select(
            fc.type, fc.org_id, fc.category, month, func.count(), func.sum(fc.amount_fen), func.sum(fc.people)
        )
        .where(fc.type.in_(types), in_effect(f.as_of.moment if f.as_of is not None else None))
        .group_by(fc.type, fc.org_id, fc.category, month)
    )
    if f.date_from is not None:
        query = query.where(fc.occurred_on >= f.date_from.isoformat())
    if f.date_to is not None:
        query = query.where(fc.occurred_on <= f.date_to.isoformat())
    if f.org is not None:
        query = query.where(fc.org_id == f.org)
    total: Tally = {}
    groups: dict[Any, tuple[str, Tally]] = {}
    for type_, org_id, category, mon, n, amount, people in conn.execute(query):
        if not f.keeps(tree, org_id):
            continue
        values = (int(n), int(amount or 0), int(people or 0))
        _add(total, type_, category, values)
        if f.group_by is not None:
            key, name = group_key(tree, f.group_by, org_id, mon)
            _add(groups.setdefault(key, (name, {}))[1], type_, category, values)
    return total, groups


def _add(tally: Tally, type_: str, category: str, values: tuple[int, int, int]) -> None:
    acc = tally.setdefault((type_, category), [0, 0, 0])
    for i, v in enumerate(values):
        acc[i] += v


def tallied(
    conn: Connection, types: tuple[str, ...], f: FigureFilter, render: Callable[[Tally], dict[str, Any]]
) -> dict[str, Any]:
    tree = load_tree(conn)
    f.check(tree)
    total, groups = _tallies(conn, tree, types, f)
    return {
        "filters": f.echo(),
        "total": render(total),
        "groups": [
            {"key": key, "name": groups[key][0], **render(groups[key][1])}
            for key in sorted(groups, key=sort_key)
        ],
    }


def funds(conn: Connection, **filters: Any) -> dict[str, Any]:
    """Received by each of the five sources, spent, and balance = received − spent (fen)."""
    return tallied(conn, FUND_TYPES, FigureFilter(**filters), funds_section)


def pioneer(conn: Connection, **filters: Any) -> dict[str, Any]:
    """Pioneer work and township chambers, one section per event type."""
    return tallied(conn, PIONEER_TYPES, FigureFilter(**filters), pioneer_section)
