"""Figures from the facts table: funds (五个一点), pioneer work and chambers, education.

Every figure can be limited to a period (`date_from`/`date_to` on the China date the event
occurred), an organisation, an outstation mode (of the fact's organisation) and a township
(the township committee at or above the fact's organisation), and grouped by org, mode,
township or month. `known_at` keeps only what the county had received by then (DESIGN §6).

Education's coverage and study accounts are about the members on the roster: live, or with
`as_of` (business time D) the roster as it stood at D (the member timeline), training attended
by D and study accounts opened by D.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, literal_column, select

from services.county.db import tables as t
from services.county.projections import attendance, figures, roster
from services.county.projections.attendance import attended
from services.county.projections.fact import fact_from_archive
from services.county.queries.asof import AsOf, members_as_of, valid_at
from services.county.queries.common import (
    NONE_NAME,
    UNREGISTERED,
    OrgTree,
    canonical_time,
    china_today,
    load_tree,
    sort_key,
)
from services.county.queries.figures_spec import Tally, education_section, funds_section, pioneer_section
from shared.catalog.figures import EDUCATION_TYPES, FUND_TYPES, PIONEER_TYPES
from shared.catalog.status import ACTIVE
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
    known_at: datetime | None = None
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
            "known_at": canonical_time(self.known_at, "known_at") if self.known_at else None,
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


def _key(tree: OrgTree, group_by: GroupBy, org_id: str | None, month: str | None) -> tuple[Any, str]:
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
        .where(fc.type.in_(types))
        .group_by(fc.type, fc.org_id, fc.category, month)
    )
    if f.date_from is not None:
        query = query.where(fc.occurred_on >= f.date_from.isoformat())
    if f.date_to is not None:
        query = query.where(fc.occurred_on <= f.date_to.isoformat())
    if f.org is not None:
        query = query.where(fc.org_id == f.org)
    if f.known_at is not None:
        a = t.archive.c
        query = query.join(t.archive, and_(a.node_id == fc.node_id, a.seq == fc.seq)).where(
            a.received_at <= canonical_time(f.known_at, "known_at")
        )
    total: Tally = {}
    groups: dict[Any, tuple[str, Tally]] = {}
    for type_, org_id, category, mon, n, amount, people in conn.execute(query):
        if not f.keeps(tree, org_id):
            continue
        values = (int(n), int(amount or 0), int(people or 0))
        _add(total, type_, category, values)
        if f.group_by is not None:
            key, name = _key(tree, f.group_by, org_id, mon)
            _add(groups.setdefault(key, (name, {}))[1], type_, category, values)
    return total, groups


def _add(tally: Tally, type_: str, category: str, values: tuple[int, int, int]) -> None:
    acc = tally.setdefault((type_, category), [0, 0, 0])
    for i, v in enumerate(values):
        acc[i] += v


def _figures(
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
    return _figures(conn, FUND_TYPES, FigureFilter(**filters), funds_section)


def pioneer(conn: Connection, **filters: Any) -> dict[str, Any]:
    """Pioneer work and township chambers, one section per event type."""
    return _figures(conn, PIONEER_TYPES, FigureFilter(**filters), pioneer_section)


def education(conn: Connection, *, year: int | None = None, **filters: Any) -> dict[str, Any]:
    """Training sessions and attendances by mode, orglife by kind; coverage and study accounts
    of `year` (default: the year of `to`, else of `from`, else this year) over the members on
    the roster (out or contact lost), grouped by their outstation (org, mode) or township."""
    f = FigureFilter(**filters)
    out = _figures(conn, EDUCATION_TYPES, f, education_section)
    year = year or (f.date_to or f.date_from or china_today()).year
    total, groups = _coverage(conn, load_tree(conn), f, year)
    out["total"].update(total)
    by_key = {g["key"]: g for g in out["groups"]}
    for key, (name, values) in groups.items():
        by_key.setdefault(key, {"key": key, "name": name, **education_section({})}).update(values)
    for group in by_key.values():  # coverage is yearly: month groups have none
        empty = _rates(year, [0, 0, 0]) if f.group_by is not GroupBy.MONTH else _NO_RATES
        for name, value in empty.items():
            group.setdefault(name, value)
    out["groups"] = [by_key[k] for k in sorted(by_key, key=sort_key)]
    return out


_NO_RATES: dict[str, Any] = {"coverage": None, "study_accounts": None}


def _coverage(
    conn: Connection, tree: OrgTree, f: FigureFilter, year: int
) -> tuple[dict[str, Any], dict[Any, tuple[str, dict[str, Any]]]]:
    counts: dict[Any, list[int]] = {}
    names: dict[Any, str] = {}
    total = [0, 0, 0]
    for home_branch, outstation, study, trained in _roster_attendance(conn, f.as_of, year):
        if f.org is not None and f.org not in (outstation, home_branch):
            continue
        if f.mode is not None and tree.mode(outstation) != str(f.mode):
            continue
        township = tree.township_of(home_branch)
        if f.township is not None and township != (None if f.township == UNREGISTERED else f.township):
            continue
        values = (1, int(bool(trained)), int(bool(study)))
        total = [a + b for a, b in zip(total, values, strict=True)]
        if f.group_by in (GroupBy.ORG, GroupBy.MODE):
            key, names_ = _key(tree, f.group_by, outstation, None)
        elif f.group_by is GroupBy.TOWNSHIP:
            key, names_ = township, tree.name(township, NONE_NAME)
        else:
            continue
        names[key] = names_
        acc = counts.setdefault(key, [0, 0, 0])
        counts[key] = [a + b for a, b in zip(acc, values, strict=True)]
    return _rates(year, total), {k: (names[k], _rates(year, v)) for k, v in counts.items()}


Attending = tuple[str, str | None, bool, bool]
"""A member on the roster: (home branch, outstation, study account opened, trained in the year)."""
CHUNK = 500


def _roster_attendance(conn: Connection, as_of: AsOf | None, year: int) -> list[Attending]:
    """The members on the roster (out or contact lost): live, or as the roster stood at D."""
    if as_of is None:
        m, tr = roster.members.c, attendance.trained.c
        trained_ids = select(tr.member_id).where(tr.year == year)
        query = select(m.home_branch, m.outstation, m.study_account, m.member_id.in_(trained_ids))
        return [(h, o, bool(s), bool(y)) for h, o, s, y in conn.execute(query.where(m.status.in_(ACTIVE)))]
    tl = roster.member_timeline.c
    on_roster = (valid_at(as_of.moment), tl.status.in_(ACTIVE))
    rows = conn.execute(select(tl.member_id, tl.home_branch, tl.outstation).where(*on_roster)).all()
    ids = [r.member_id for r in rows]
    trained = _trained_by(conn, ids, year, as_of)
    study = _study_accounts_by(conn, ids, as_of)
    return [(h, o, mid in study, mid in trained) for mid, h, o in rows]


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _trained_by(conn: Connection, ids: Sequence[str], year: int, as_of: AsOf) -> set[str]:
    """Those of `ids` who attended training in `year` by D. A year before D's is over by D (the
    `trained` projection holds it); for D's own year a member whose latest training is after D
    is looked for among that year's training events up to D; a later year has none by D."""
    if year > as_of.day.year:
        return set()
    tr, ac = attendance.trained.c, attendance.activity.c
    latest: dict[str, str | None] = {}
    for chunk in _chunks(ids):
        query = (
            select(tr.member_id, ac.last_trained_at)
            .join(attendance.activity, ac.member_id == tr.member_id, isouter=True)
            .where(tr.year == year, tr.member_id.in_(chunk))
        )
        latest.update((mid, last) for mid, last in conn.execute(query))
    if year < as_of.day.year:
        return set(latest)
    # a trained row for D's year and the latest training by D: that training is in D's year
    found = {mid for mid, last in latest.items() if last is not None and last <= as_of.moment}
    late = set(latest) - found
    if late:
        found |= _attended_training(conn, late, year, as_of)
    return found


def _attended_training(conn: Connection, wanted: set[str], year: int, as_of: AsOf) -> set[str]:
    """Those of `wanted` among the attendees of the training events of `year` that occurred by D."""
    fc, a = figures.facts.c, t.archive.c
    query = (
        select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope)
        .join(figures.facts, and_(fc.node_id == a.node_id, fc.seq == a.seq))
        .where(
            fc.type == "training.held",
            fc.occurred_on >= f"{year:04d}-01-01",
            fc.occurred_on <= as_of.day.isoformat(),
            a.occurred_at <= as_of.moment,
        )
    )
    found: set[str] = set()
    for row in conn.execute(query):
        _, attendees = attended(fact_from_archive(*row)) or ("", [])
        found.update(m for m in attendees if m in wanted)
    return found


def _study_accounts_by(conn: Connection, ids: Sequence[str], as_of: AsOf) -> set[str]:
    """Those of `ids` whose study account was open at D: the members with an opening by D,
    derived (as live) from their events by D."""
    a = t.archive.c
    opened: set[str] = set()
    for chunk in _chunks(ids):
        query = select(a.subject).where(
            a.type == "member.study_account_opened",
            a.occurred_at <= as_of.moment,
            a.subject.in_([f"m:{mid}" for mid in chunk]),
        )
        opened.update(subject[2:] for subject in conn.execute(query).scalars())
    derived = members_as_of(conn, sorted(opened), as_of.moment)
    return {mid for mid, found in derived.items() if found is not None and found.row["study_account"]}


def _rates(year: int, values: list[int]) -> dict[str, Any]:
    roster, trained, study = values
    return {
        "coverage": {"year": year, "roster": roster, "trained": trained, "rate": _rate(trained, roster)},
        "study_accounts": {"roster": roster, "opened": study, "rate": _rate(study, roster)},
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
