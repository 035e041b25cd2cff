"""The three-level roster: each member's row and their state over business time (the timeline).

A member is re-derived from every event about them, in business order (DESIGN §3.4), by
`history`: pure, so the same set of events gives the same rows whatever order they arrived in.
Dual management and conflicts read the same history (`dual_management`, `conflicts`).

Personal data (issue 15): a sealed personal is kept as its JSON in `personal` (name empty), the
latest one; only older clear events put a name in clear. An erased member (`member.erased`)
keeps every fact but no personal data: `[已删除]` in the row and in every version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import Boolean, Column, Connection, Index, String, Table, Text, delete

from services.county.db.tables import metadata
from services.county.projections.fact import MEMBER, Fact
from services.county.projections.projection import EntityProjection, Row
from shared.catalog import member as m
from shared.catalog.base import Personal
from shared.catalog.mechanism import PostCrossAssigned
from shared.catalog.status import REGISTERED_STATUS, STATUS_AFTER
from shared.personal import ERASED

members = Table(
    "members",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("personal", Text),
    Column("home_branch", String(64), nullable=False),
    Column("outstation", String(64)),
    Column("host_location", Text),
    Column("host_org", String(64)),
    Column("occupation", Text),
    Column("status", String(20), nullable=False),
    Column("status_since", String(32), nullable=False),
    Column("flowed_out_on", String(10), nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", String(32), nullable=False),
    Column("study_account", Boolean, nullable=False, default=False),
    Column("erased", Boolean, nullable=False, default=False),
    Index("ix_members_branch", "home_branch", "status"),
    Index("ix_members_outstation", "outstation"),
)

member_timeline = Table(
    "member_timeline",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("valid_from", String(32), primary_key=True),
    Column("valid_to", String(32)),
    Column("name", Text, nullable=False),
    Column("personal", Text),
    Column("home_branch", String(64), nullable=False),
    Column("outstation", String(64)),
    Column("host_location", Text),
    Column("host_org", String(64)),
    Column("status", String(20), nullable=False),
    Column("cross_posts", Text, nullable=False, default="[]"),
    Index("ix_member_timeline_valid", "valid_from", "valid_to"),
)
"""Each member's state over business time: the row valid at D has valid_from <= D < valid_to
(valid_to NULL: still valid). The roster and dual management `as_of` D read it."""

VERSIONED = ("name", "personal", "home_branch", "outstation", "host_location", "host_org", "status")
"""The roster columns the timeline versions (with the cross posts)."""


@dataclass
class MemberHistory:
    """A member as every event about them says, in business order."""

    row: dict[str, Any]
    """The `members` row: the state after the last event."""
    posts: dict[str, str] = field(default_factory=dict)
    """Cross posts (党内任职交叉制) by organisation."""
    timeline: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[Fact] = field(default_factory=list)
    status_changes: dict[str, list[Fact]] = field(default_factory=dict)
    """The events that changed the status, by China date."""


def history(member_id: str, facts: Sequence[Fact]) -> MemberHistory | None:
    """The member derived from every event about them; None before any registration (events
    about a member not yet registered wait, and are re-derived once one arrives)."""
    found: MemberHistory | None = None
    versions: dict[str, dict[str, Any]] = {}  # valid_from -> state from then on
    for fact in sorted(facts, key=lambda f: f.order):
        body = fact.body
        if isinstance(body, m.MemberRegistered):
            if found is None:
                found = MemberHistory(_registered(member_id, fact, body))
                versions[fact.occurred_at] = _version(found.row, found.posts)
            found.registrations.append(fact)
            continue
        if found is None:
            continue
        row = found.row
        if (status := STATUS_AFTER.get(type(body))) is not None:
            row["status"] = status.value
            row["status_since"] = fact.occurred_at
            found.status_changes.setdefault(fact.china_date, []).append(fact)
        if isinstance(body, m.MemberErased):
            row["erased"] = True
        elif isinstance(body, m.MemberMoved):
            row.update(outstation=body.outstation, host_location=body.host_location, host_org=body.host_org)
        elif isinstance(body, m.MemberDetailsUpdated):
            if body.occupation is not None:
                row["occupation"] = body.occupation
            if body.personal is not None:
                row.update(_personal(body.personal))
        elif isinstance(body, m.MemberStudyAccountOpened):
            row["study_account"] = True
        elif isinstance(body, PostCrossAssigned):
            found.posts[body.org_id] = body.post
        versions[fact.occurred_at] = _version(row, found.posts)
    if found is not None:
        if found.row["erased"]:
            _scrub(found.row, versions.values())
        found.timeline = _timeline(member_id, versions)
    return found


def _scrub(row: dict[str, Any], versions: Iterable[dict[str, Any]]) -> None:
    """An erased member: no personal data (not even its ciphertext) in the row or in any version
    of the timeline, whatever its business time; everything else stays, so counts stay right."""
    for state in (row, *versions):
        state.update(name=ERASED, personal=None)


def _version(row: dict[str, Any], posts: dict[str, str]) -> dict[str, Any]:
    cross = json.dumps(sorted(posts.items()), ensure_ascii=False)
    return {**{k: row[k] for k in VERSIONED}, "cross_posts": cross}


def _timeline(member_id: str, versions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Business-time versions [valid_from, valid_to); a version equal to the one before merges."""
    rows: list[dict[str, Any]] = []
    for valid_from, state in sorted(versions.items()):
        if rows and all(rows[-1][k] == v for k, v in state.items()):
            continue
        if rows:
            rows[-1]["valid_to"] = valid_from
        rows.append({"member_id": member_id, "valid_from": valid_from, "valid_to": None, **state})
    return rows


def _registered(member_id: str, fact: Fact, body: m.MemberRegistered) -> dict[str, Any]:
    return {
        "member_id": member_id,
        **_personal(body.personal),
        "home_branch": body.home_branch,
        "outstation": body.outstation,
        "host_location": body.host_location,
        "host_org": body.host_org,
        "occupation": body.occupation,
        "status": REGISTERED_STATUS.value,
        "status_since": fact.occurred_at,
        "flowed_out_on": body.flowed_out_on.isoformat(),
        "registered_by": fact.node_id,
        "registered_at": fact.occurred_at,
        "study_account": False,
        "erased": False,
    }


def _personal(personal: Personal) -> dict[str, Any]:
    """What the roster keeps of a member's personal data: a sealed one as its JSON (opened at
    read time with the key store, never in clear here), the name of a clear one (older events;
    their ID number and phone are not kept)."""
    if personal.sealed is not None:
        return {"name": "", "personal": msgspec.json.encode(personal).decode()}
    return {"name": personal.name or "", "personal": None}


def _rows(_member_id: str, _facts: Sequence[Fact], found: Any) -> dict[Table, list[Row]]:
    if found is None:
        return {}
    return {members: [found.row], member_timeline: found.timeline}


def _forget(conn: Connection, member_ids: Sequence[str]) -> None:
    conn.execute(delete(members).where(members.c.member_id.in_(member_ids)))
    conn.execute(delete(member_timeline).where(member_timeline.c.member_id.in_(member_ids)))


PROJECTION = EntityProjection(
    name="roster",
    kind=MEMBER,
    tables=(members, member_timeline),
    claims=frozenset(
        {
            "member.registered",
            "member.moved",
            "member.returned",
            "member.contact_lost",
            "member.contact_restored",
            "member.transferred_out",
            "member.details_updated",
            "member.erased",
            "member.study_account_opened",
            "post.cross_assigned",
        }
    ),
    rows=_rows,
    forget=_forget,
)
