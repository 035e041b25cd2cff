"""Organisation events: the tree of committees, branches, outstations and chambers."""

from __future__ import annotations

from shared.catalog.base import (
    EventBody,
    MemberId,
    OrgKind,
    OutstationMode,
    PositiveCount,
    Problems,
    Text,
    VenueKind,
    VenueSource,
    refuse_first,
)
from shared.ids import Slug


class OrgRegistered(EventBody, frozen=True, kw_only=True, tag="org.registered"):
    org_id: Slug
    name: Text
    kind: OrgKind
    parent_id: Slug | None = None
    host_location: Text | None = None
    mode: OutstationMode | None = None

    def __post_init__(self) -> None:
        refuse_first(self.problems())

    def problems(self) -> Problems:
        if self.kind is not OrgKind.COUNTY_COMMITTEE and self.parent_id is None:
            yield "parent_id", f"required for a {self.kind.value}"
        if self.parent_id == self.org_id:
            yield "parent_id", "an organisation cannot be its own parent"
        if self.kind is OrgKind.OUTSTATION:
            if self.mode is None:
                yield "mode", "required for an outstation"
            if self.host_location is None:
                yield "host_location", "required for an outstation"
        elif self.mode is not None:
            yield "mode", "only an outstation has an outstation mode"


class OrgSecretaryAppointed(EventBody, frozen=True, kw_only=True, tag="org.secretary_appointed"):
    org_id: Slug
    name: Text
    member_id: MemberId | None = None


class OrgLiaisonAssigned(EventBody, frozen=True, kw_only=True, tag="org.liaison_assigned"):
    """A county leader and the office that guides the organisation (月指导, 季送学)."""

    org_id: Slug
    leader: Text
    office: Text
    guidance_every_months: PositiveCount = 1
    lesson_every_months: PositiveCount = 3


class OrgVenueOpened(EventBody, frozen=True, kw_only=True, tag="org.venue_opened"):
    org_id: Slug
    venue_id: Slug
    name: Text
    kind: VenueKind
    obtained: VenueSource
    area_m2: PositiveCount | None = None
