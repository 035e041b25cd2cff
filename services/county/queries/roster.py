"""The three-level dynamic roster: county → township → village branch → member.

A member's village is `members.home_branch`; its township is the township committee at or
above that branch in the organisation tree. Members whose branch or township is not (yet)
registered are grouped under id None, name "(未登记)" (filter value `-`). Every level is
counted by the same query, so the children of a level always add up to it.

With `as_of` (business time D) the roster is read from `member_timeline`: a member is on it when
a row is valid at D, and that row gives status, placement and name; the other columns are derived
from the member's events by D (`queries/asof.py`). The organisation tree is today's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, select

from services.county.personal.view import MASKED, PersonalView
from services.county.projections import roster
from services.county.queries.asof import AsOf, roster_rows, valid_at
from services.county.queries.common import (
    UNREGISTERED,
    UNREGISTERED_NAME,
    OrgTree,
    binary,
    by_status,
    load_tree,
    sort_key,
)
from shared.catalog.status import Status


def member_row(tree: OrgTree, row: Any) -> dict[str, Any]:
    """A member's roster row with the names of its township, village, outstation and host org;
    `personal` is the roster's sealed JSON, for a `PersonalView` to present (mask or reveal)."""
    village, township = tree.place(row["home_branch"])
    return {
        "member_id": row["member_id"],
        "name": row["name"],
        "personal": row.get("personal"),
        "status": row["status"],
        "status_since": row["status_since"],
        "home_branch": row["home_branch"],
        "township": township,
        "township_name": tree.name(township),
        "village": village,
        "village_name": tree.name(village),
        "outstation": row["outstation"],
        "outstation_name": tree.name(row["outstation"]) if row["outstation"] else None,
        "host_location": row["host_location"],
        "host_org": row["host_org"],
        "host_org_name": tree.name(row["host_org"]) if row["host_org"] else None,
        "occupation": row["occupation"],
        "flowed_out_on": row["flowed_out_on"],
        "study_account": bool(row["study_account"]),
        "registered_by": row["registered_by"],
        "registered_at": row["registered_at"],
    }


def roster_where(
    tree: OrgTree,
    *,
    township: str | None = None,
    village: str | None = None,
    outstation: str | None = None,
    host_location: str | None = None,
    status: Status | str | None = None,
    as_of: AsOf | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a roster filter (on `roster_table(as_of)`); township and village ids
    are checked first."""
    m = roster_table(as_of).c
    where: list[ColumnElement[bool]] = [] if as_of is None else [valid_at(as_of.moment)]
    if township is not None:
        tree.check(township, "township", "township_committee")
        if township == UNREGISTERED:
            placed = [o for o, tw in tree.townships.items() if tw is not None]
            where.append(m.home_branch.not_in(placed))
        else:
            where.append(m.home_branch.in_(tree.branches_in(township)))
    if village is not None:
        tree.check(village, "village")
        if village == UNREGISTERED:
            where.append(m.home_branch.not_in(list(tree.orgs)))
        else:
            where.append(m.home_branch == village)
    if outstation is not None:
        where.append(m.outstation == outstation)
    if host_location is not None:
        where.append(m.host_location == host_location)
    if status is not None:
        where.append(m.status == str(status))
    return where


def roster_table(as_of: AsOf | None) -> Table:
    """Where the roster is read: the live `members`, or the timeline for a business time."""
    return roster.members if as_of is None else roster.member_timeline


def roster_summary(
    conn: Connection,
    township: str | None = None,
    village: str | None = None,
    as_of: AsOf | None = None,
    **filters: Any,
) -> dict[str, Any]:
    """Counts by status at one level (county, a township or a village) and for each child below it.

    `filters`: outstation, host_location, status. Children are the townships at county level
    (every registered one, zeros included) and the villages at township level.
    """
    tree = load_tree(conn)
    where = roster_where(tree, township=township, village=village, as_of=as_of, **filters)
    m = roster_table(as_of).c
    rows = conn.execute(
        select(m.home_branch, m.status, func.count()).where(*where).group_by(m.home_branch, m.status)
    ).all()
    per_township: dict[str | None, Counter[str]] = {}
    per_village: dict[str | None, Counter[str]] = {}
    total: Counter[str] = Counter()
    for home_branch, status, n in rows:
        vil, tw = tree.place(home_branch)
        per_township.setdefault(tw, Counter())[status] += n
        per_village.setdefault(vil, Counter())[status] += n
        total[status] += n
    county_id, county_name = tree.county()
    path = [{"level": "county", "id": county_id, "name": county_name}]
    children: list[dict[str, Any]] = []
    if village is not None:
        above = township or (tree.township_of(village) if village != UNREGISTERED else None)
        path.append(_node("township", above or UNREGISTERED, tree))
        level = _node("village", village, tree)
    elif township is not None:
        level = _node("township", township, tree)
        registered = [o for o in tree.branches_in(township) if tree.orgs[o]["kind"] == "village_branch"]
        keys: set[str | None] = {*registered, *per_village}
        children = [_child("village", k, tree, per_village.get(k)) for k in sorted(keys, key=sort_key)]
    else:
        level = {"level": "county", "id": county_id, "name": county_name}
        keys = {*tree.of_kind("township_committee"), *per_township}
        children = [_child("township", k, tree, per_township.get(k)) for k in sorted(keys, key=sort_key)]
    if level["level"] != "county":
        path.append(level)
    return {
        **level,
        "total": sum(total.values()),
        "by_status": by_status(dict(total)),
        "children": children,
        "path": path,
    }


def _node(level: str, org_id: str, tree: OrgTree) -> dict[str, Any]:
    key = None if org_id == UNREGISTERED else org_id
    return {"level": level, "id": key, "name": tree.name(key)}


def _child(level: str, key: str | None, tree: OrgTree, counts: Counter[str] | None) -> dict[str, Any]:
    counts = counts or Counter()
    return {
        "id": key,
        "name": tree.name(key) if key is not None else UNREGISTERED_NAME,
        "level": level,
        "total": sum(counts.values()),
        "by_status": by_status(dict(counts)),
    }


def _member_query(conn: Connection, where: list[ColumnElement[bool]], as_of: AsOf | None) -> Any:
    table = roster_table(as_of)
    return select(table).where(*where).order_by(binary(conn, table.c.name), table.c.member_id)


def named(items: list[dict[str, Any]], name: str | None) -> list[dict[str, Any]]:
    """The members whose (opened) name contains `name`, case-insensitive; all of them without one."""
    if not name:
        return items
    wanted = name.casefold()
    return [item for item in items if wanted in (item.get("name") or "").casefold()]


def by_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members by name (code point order, as the database's binary collation), then member id:
    the names of sealed members exist only once opened, so the order is made after `present`."""
    return sorted(items, key=lambda item: (item.get("name") or "", item["member_id"]))


def _rows(conn: Connection, query: Any, as_of: AsOf | None) -> Iterable[Any]:
    if as_of is None:
        return conn.execute(query).mappings()
    return roster_rows(conn, conn.execute(query).mappings().all(), as_of.moment)


def roster_members(
    conn: Connection,
    township: str | None = None,
    village: str | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
    as_of: AsOf | None = None,
    view: PersonalView = MASKED,
    name: str | None = None,
    **filters: Any,
) -> dict[str, Any]:
    """The members at a level of the roster, by name then member_id, one page at a time (personal
    data presented by `view`: masked); with `name`, those whose name contains it."""
    tree = load_tree(conn)
    where = roster_where(tree, township=township, village=village, as_of=as_of, **filters)
    count = select(func.count()).select_from(roster_table(as_of)).where(*where)
    total = conn.execute(count).scalar_one()
    # every member in scope is opened to order them by name, then the page is cut: a county's
    # few thousand members open in milliseconds (bench.county's query step)
    items = [member_row(tree, r) for r in _rows(conn, _member_query(conn, where, as_of), as_of)]
    view.present(conn, items)
    found = by_name(named(items, name))
    total = total if name is None else len(found)
    return {"total": int(total), "limit": limit, "offset": offset, "items": found[offset : offset + limit]}


def roster_items(
    conn: Connection,
    township: str | None = None,
    village: str | None = None,
    as_of: AsOf | None = None,
    view: PersonalView = MASKED,
    reveal: bool = False,
    name: str | None = None,
    **filters: Any,
) -> list[dict[str, Any]]:
    """The same rows as `roster_members`, all of them, by name (masked, or in full with `reveal`:
    the caller has recorded the reveal): what the roster's CSV and workbook are made of."""
    tree = load_tree(conn)
    where = roster_where(tree, township=township, village=village, as_of=as_of, **filters)
    rows = [member_row(tree, r) for r in _rows(conn, _member_query(conn, where, as_of), as_of)]
    view.present(conn, rows, reveal=reveal)
    return by_name(named(rows, name))
