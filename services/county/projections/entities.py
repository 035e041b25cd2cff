"""Entities re-derived from all of their events in business order: members, orgs, candidates.

Pure functions: the same set of events gives the same rows whatever order they arrived in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.county.projections.events import Fact
from shared.catalog import member as m
from shared.catalog.base import VenueKind
from shared.catalog.mechanism import PostCrossAssigned, RecruitmentReviewed
from shared.catalog.org import OrgLiaisonAssigned, OrgRegistered, OrgSecretaryAppointed, OrgVenueOpened
from shared.catalog.status import ACTIVE, REGISTERED_STATUS, STATUS_AFTER, Status


def conflict(kind: str, subject: str, detail: dict[str, Any], facts: Sequence[Fact]) -> dict[str, Any]:
    refs = sorted(f.ref for f in facts)
    key = hashlib.sha256(f"{kind}|{subject}|{'|'.join(refs)}".encode()).hexdigest()[:32]
    return {
        "conflict_id": key,
        "kind": kind,
        "subject": subject,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
        "events": ",".join(refs),
    }


@dataclass
class MemberRows:
    member: dict[str, Any] | None = None
    co_managers: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)


VERSIONED = ("name", "home_branch", "outstation", "host_location", "host_org", "status")


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


def derive_member(member_id: str, facts: Sequence[Fact]) -> MemberRows:
    """A member's roster row, co-managers and conflicts from every event about them."""
    out = MemberRows()
    row: dict[str, Any] | None = None
    posts: dict[str, str] = {}
    registrations: list[Fact] = []
    by_day: dict[str, list[Fact]] = {}
    timeline: dict[str, dict[str, Any]] = {}  # valid_from -> state from then on
    for fact in sorted(facts, key=lambda f: f.order):
        body = fact.body
        if isinstance(body, m.MemberRegistered):
            registrations.append(fact)
            if row is None:
                row = _registered(member_id, fact, body)
                timeline[fact.occurred_at] = _version(row, posts)
            continue
        if row is None:
            continue  # before any registration: ignored until one arrives (then re-derived)
        if type(body) in STATUS_AFTER:
            row["status"] = STATUS_AFTER[type(body)].value
            row["status_since"] = fact.occurred_at
            by_day.setdefault(fact.china_date, []).append(fact)
        if isinstance(body, m.MemberMoved):
            row.update(outstation=body.outstation, host_location=body.host_location, host_org=body.host_org)
        elif isinstance(body, m.MemberDetailsUpdated):
            if body.occupation is not None:
                row["occupation"] = body.occupation
            if body.personal is not None:
                row["name"] = body.personal.name
        elif isinstance(body, m.MemberStudyAccountOpened):
            row["study_account"] = True
        elif isinstance(body, PostCrossAssigned):
            posts[body.org_id] = body.post
        timeline[fact.occurred_at] = _version(row, posts)
    out.member = row
    if row is None:
        return out
    out.timeline = _timeline(member_id, timeline)
    subject = f"m:{member_id}"
    if len({f.node_id for f in registrations}) > 1:
        nodes = sorted({f.node_id for f in registrations})
        out.conflicts.append(conflict("double_registration", subject, {"nodes": nodes}, registrations))
    for day, changes in sorted(by_day.items()):
        outcomes = {type(f.body).__struct_config__.tag for f in changes}
        if len({f.node_id for f in changes}) > 1 and len({STATUS_AFTER[type(f.body)] for f in changes}) > 1:
            detail = {"date": day, "types": sorted(str(t) for t in outcomes)}
            out.conflicts.append(conflict("contradictory_status", subject, detail, changes))
    out.co_managers = _co_managers(member_id, row, posts)
    return out


def _registered(member_id: str, fact: Fact, body: m.MemberRegistered) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "name": body.personal.name,
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
    }


def _co_managers(member_id: str, row: dict[str, Any], posts: dict[str, str]) -> list[dict[str, Any]]:
    """Cross posts while the member belongs here; outstation and host org while they are away."""
    if row["status"] == Status.TRANSFERRED_OUT:
        return []  # the relationship has moved to another organisation
    rows = [
        {"member_id": member_id, "org_id": org, "role": "cross_post", "post": p} for org, p in posts.items()
    ]
    if row["status"] in ACTIVE:
        for role in ("outstation", "host_org"):
            if row[role]:
                rows.append({"member_id": member_id, "org_id": row[role], "role": role, "post": ""})
    return sorted(rows, key=lambda r: (r["org_id"], r["role"]))


def derive_org(org_id: str, facts: Sequence[Fact]) -> dict[str, Any] | None:
    """An organisation's row: first registration, latest secretary and liaison, its venues."""
    row: dict[str, Any] | None = None
    venues: dict[str, VenueKind] = {}
    for fact in sorted(facts, key=lambda f: f.order):
        body = fact.body
        if isinstance(body, OrgRegistered) and row is None:
            row = {
                "org_id": org_id,
                "name": body.name,
                "kind": body.kind.value,
                "parent_id": body.parent_id,
                "host_location": body.host_location,
                "mode": body.mode.value if body.mode else None,
                "secretary": None,
                "liaison_leader": None,
                "liaison_office": None,
            }
        elif row is None:
            continue
        elif isinstance(body, OrgSecretaryAppointed):
            row["secretary"] = body.name
        elif isinstance(body, OrgLiaisonAssigned):
            row.update(liaison_leader=body.leader, liaison_office=body.office)
        elif isinstance(body, OrgVenueOpened):
            venues[body.venue_id] = body.kind
    if row is not None:
        row["venues"] = sum(1 for k in venues.values() if k is VenueKind.ACTIVITY_VENUE)
        row["teaching_sites"] = sum(1 for k in venues.values() if k is VenueKind.TEACHING_SITE)
    return row


def derive_candidate(candidate_id: str, facts: Sequence[Fact]) -> dict[str, Any] | None:
    """Dual review (双审制): each side's latest decision."""
    row: dict[str, Any] | None = None
    for fact in sorted(facts, key=lambda f: f.order):
        body = fact.body
        if not isinstance(body, RecruitmentReviewed):
            continue
        if row is None:
            row = {
                "candidate_id": candidate_id,
                "org_id": body.org_id,
                "outstation_decision": None,
                "home_decision": None,
            }
        row[f"{body.side.value}_decision"] = body.decision.value
        row["last_reviewed_at"] = fact.occurred_at
    return row
