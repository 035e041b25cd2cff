"""What /api/v1/roster returns: counts at a level of the three-level roster, and its members."""

from __future__ import annotations

from services.county.api.models.base import Model


class ByStatus(Model):
    """Members per status, every status listed (zeros included)."""

    out: int
    returned: int
    contact_lost: int
    transferred_out: int


class PathStep(Model):
    level: str
    id: str | None
    name: str


class RosterChild(Model):
    id: str | None
    name: str
    level: str
    total: int
    by_status: ByStatus


class RosterLevel(Model):
    """One level (county, township or village), its counts and those of each child level."""

    level: str
    id: str | None
    name: str
    total: int
    by_status: ByStatus
    children: list[RosterChild]
    path: list[PathStep]


class MemberRow(Model):
    """A member's roster row, with the names of their township, village, outstation and host org."""

    member_id: str
    name: str
    """In clear (opened with the county's key store at read time), or `（密钥未到）` before the
    member's key has reached the county."""
    id_number: str | None
    """Masked (`4311**********0898`) for every role; in full only in a recorded reveal."""
    phone: str | None
    """Masked (`138****5678`) likewise."""
    status: str
    status_since: str | None
    home_branch: str
    township: str | None
    township_name: str
    village: str | None
    village_name: str
    outstation: str | None
    outstation_name: str | None
    host_location: str | None
    host_org: str | None
    host_org_name: str | None
    occupation: str | None
    flowed_out_on: str | None
    study_account: bool
    registered_by: str | None
    registered_at: str | None


class RosterMembers(Model):
    """One page of members, by name then member_id."""

    total: int
    limit: int
    offset: int
    items: list[MemberRow]
