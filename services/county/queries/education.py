"""Education: training and organisational life from the facts table, and the yearly training
coverage and study accounts of the members on the roster.

Coverage and study accounts are about the members on the roster (out or contact lost): live, or
with `as_of` (business time D) the roster as it stood at D (the member timeline), training
attended by D and study accounts opened by D.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from services.county.db import tables as t
from services.county.projections import attendance, figures, roster
from services.county.projections.attendance import attended
from services.county.projections.fact import MEMBER, entity_key, split_entity
from services.county.queries.asof import AsOf, members_as_of, valid_at
from services.county.queries.attendance import changed_after, derived
from services.county.queries.common import NONE_NAME, UNREGISTERED, OrgTree, china_today, load_tree, sort_key
from services.county.queries.figures import FigureFilter, GroupBy, group_key, tallied
from services.county.queries.figures_spec import education_section
from services.county.queries.versions import in_effect, records
from shared.catalog.figures import EDUCATION_TYPES
from shared.catalog.status import ACTIVE


def education(conn: Connection, *, year: int | None = None, **filters: Any) -> dict[str, Any]:
    """Training sessions and attendances by mode, orglife by kind; coverage and study accounts
    of `year` (default: the year of `to`, else of `from`, else this year) over the members on
    the roster (out or contact lost), grouped by their outstation (org, mode) or township."""
    f = FigureFilter(**filters)
    out = tallied(conn, EDUCATION_TYPES, f, education_section)
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
            key, names_ = group_key(tree, f.group_by, outstation, None)
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
    if changed_after(conn, as_of):  # `trained` and `activity` no longer say what held at D
        return {mid for mid, a in derived(conn, ids, as_of).items() if year in a.trained_years}
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
    """Those of `wanted` among the attendees of the training records of `year` in effect at D that
    occurred by D."""
    fc = figures.facts.c
    query = select(fc.node_id, fc.seq, fc.version_of).where(
        fc.type == "training.held",
        fc.occurred_on >= f"{year:04d}-01-01",
        fc.occurred_on <= as_of.day.isoformat(),
        in_effect(as_of.moment),
    )
    found: set[str] = set()
    for fact in records(conn, [tuple(r) for r in conn.execute(query)]):
        if fact.occurred_at <= as_of.moment:
            _, attendees = attended(fact) or ("", [])
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
            a.subject.in_([entity_key(MEMBER, mid) for mid in chunk]),
        )
        opened.update(split_entity(subject)[1] for subject in conn.execute(query).scalars())
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
