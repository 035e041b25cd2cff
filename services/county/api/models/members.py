"""What /api/v1/members and /api/v1/orgs return: a member's card, dual management (一方隶属、多方管理)
seen from a member or from an organisation, and the organisation tree."""

from __future__ import annotations

from typing import Any

from services.county.api.models.base import Model
from services.county.api.models.roster import MemberRow


class CoManager(Model):
    """An organisation co-managing a member besides the home branch, and how."""

    org_id: str
    name: str
    kind: str | None
    role: str
    """`outstation`, `host_org` or `cross_post`."""
    post: str | None


class Activity(Model):
    last_orglife_at: str | None
    last_trained_at: str | None
    trained_years: list[int]


class Conflict(Model):
    """Facts that cannot both be true (DESIGN §3.8); `events` are archived `node:seq`."""

    conflict_id: str
    kind: str
    subject: str
    detail: dict[str, Any]
    events: list[str]


class Recruitment(Model):
    """The dual review (双审制) of a candidate: each side's latest decision."""

    candidate_id: str
    org_id: str
    outstation_decision: str | None
    home_decision: str | None
    last_reviewed_at: str


class Correction(Model):
    """A correction of an event (`record.corrected` / `record.voided`) by the same node."""

    seq: int
    type: str
    occurred_at: str
    reason: str
    stands: bool
    """False: the county refused it (a refused claim); the event stays as it was."""


class MemberEvent(Model):
    """An archived event about the member, in business order. An original keeps its place and
    says whether a correction stands (`state`); a correction says which seq it corrects and why."""

    node_id: str
    node_name: str | None
    """The name of the organisation the node is (or speaks for), as node health gives it."""
    seq: int
    type: str
    occurred_at: str
    recorded_at: str
    received_at: str
    state: str | None
    """`corrected` or `voided` by the newest standing correction of it (by `as_of`), else None."""
    corrections: list[Correction]
    """Every correction of this event (by `as_of`), in seq order."""
    corrects: int | None
    """Of a correction: the seq of its node's event it corrects or voids."""
    reason: str | None
    """Of a correction: why, as the clerk gave it."""
    stands: bool | None
    """Of a correction: False if the county refused it."""


class MemberCard(MemberRow):
    """Everything the county knows about one member."""

    co_managers: list[CoManager]
    activity: Activity
    conflicts: list[Conflict]
    recruitment: Recruitment | None
    history: list[MemberEvent]


class Affiliation(Model):
    """The one affiliation: the member's home village branch."""

    org_id: str
    name: str
    kind: str | None
    township: str | None
    township_name: str


class MemberManagement(Model):
    member_id: str
    name: str
    status: str
    affiliation: Affiliation
    co_managers: list[CoManager]


class CoManagedMember(Model):
    member_id: str
    name: str
    status: str
    post: str | None
    village: str | None
    village_name: str
    township: str | None
    township_name: str


class CoManagedByRole(Model):
    outstation: list[CoManagedMember]
    host_org: list[CoManagedMember]
    cross_post: list[CoManagedMember]


class CoManagedCounts(Model):
    affiliated: int
    """Members whose home branch this organisation is."""
    outstation: int
    host_org: int
    cross_post: int


class OrgCoManaged(Model):
    """The members an organisation co-manages, by role."""

    org_id: str
    name: str
    kind: str | None
    mode: str | None
    host_location: str | None
    township: str | None
    counts: CoManagedCounts
    co_managed: CoManagedByRole


class Org(Model):
    """A registered organisation, with the township committee at or above it."""

    org_id: str
    name: str
    kind: str
    parent_id: str | None
    host_location: str | None
    mode: str | None
    secretary: str | None
    liaison_leader: str | None
    liaison_office: str | None
    venues: int
    teaching_sites: int
    township: str | None
    township_name: str


class Orgs(Model):
    total: int
    items: list[Org]
