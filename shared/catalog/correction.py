"""Corrections: a node corrects or voids one of its own earlier events, by seq, with a reason.

The original stays in the chain, in the archive and in every export; what the projections apply
is its *effective record*: the replacement of its newest correction, or nothing once voided. A
correction takes effect at its own business time (`occurred_at`, when it was decided): `as_of`
before it shows the original. The rules the county applies (docs/authority.md §6,
`services/county/authority/corrections.py`) and the node checks before recording
(`services/branch_node/corrections.py`):

- the target is an earlier event of the same node (`target_seq` below the correction's own seq),
  named by its seq *and* its `event_id`, of the type the correction says;
- it is of a correctable type (`CORRECTABLE`; voidable: `VOIDABLE`), and not voided already
  (a void is final: record the fact anew instead);
- a replacement is of the target's type and about the same member, organisation or candidate
  (`member_id`, `org_id`, `candidate_id` where the type is about one), and carries the target's
  `personal` unchanged — names, ID numbers and phones change through `member.details_updated`;
- a correction occurs no earlier than the record it supersedes; the newest correction wins.

Not correctable: `member.erased` (irreversible), `node.*` (the chain's own machinery) and the
corrections themselves (correct the original again). `member.registered` can be corrected but not
voided: a member registered here in error leaves through `member.transferred_out`, or is erased.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.bounds import MAX_SEQ, TEXT_PATTERN
from shared.catalog.base import EventBody
from shared.catalog.chamber import ChamberFundsRaised, ChamberMemberJoined, ChamberProjectLaunched
from shared.catalog.funds import FundReceived, FundSpent
from shared.catalog.mechanism import (
    LiaisonBriefing,
    OrglifeHeld,
    PostCrossAssigned,
    RecruitmentReviewed,
    TrainingHeld,
)
from shared.catalog.member import (
    MemberContactLost,
    MemberContactRestored,
    MemberDetailsUpdated,
    MemberMoved,
    MemberRegistered,
    MemberReturned,
    MemberStudyAccountOpened,
    MemberTransferredOut,
)
from shared.catalog.org import OrgLiaisonAssigned, OrgRegistered, OrgSecretaryAppointed, OrgVenueOpened
from shared.catalog.pioneer import (
    DisputeMediated,
    DonationMade,
    EnterpriseFounded,
    InvestmentLead,
    JobsPlaced,
    JobsPosted,
    LegalConsulted,
    ReturneeInvested,
    ServiceProvided,
)
from shared.errors import invalid
from shared.ids import whole

Replacement = (
    OrgRegistered
    | OrgSecretaryAppointed
    | OrgLiaisonAssigned
    | OrgVenueOpened
    | MemberRegistered
    | MemberMoved
    | MemberReturned
    | MemberContactLost
    | MemberContactRestored
    | MemberTransferredOut
    | MemberDetailsUpdated
    | MemberStudyAccountOpened
    | PostCrossAssigned
    | RecruitmentReviewed
    | OrglifeHeld
    | LiaisonBriefing
    | TrainingHeld
    | FundReceived
    | FundSpent
    | ReturneeInvested
    | InvestmentLead
    | JobsPosted
    | JobsPlaced
    | DonationMade
    | DisputeMediated
    | LegalConsulted
    | ServiceProvided
    | EnterpriseFounded
    | ChamberMemberJoined
    | ChamberFundsRaised
    | ChamberProjectLaunched
)
"""What a correction may carry as the corrected record: every type a clerk records."""

CORRECTABLE: frozenset[str] = frozenset(str(c.__struct_config__.tag) for c in Replacement.__args__)
"""The event types a correction may target."""
VOIDABLE: frozenset[str] = CORRECTABLE - {"member.registered"}
"""The event types a void may target."""


def subject_field(tag: str) -> str | None:
    """The field naming the member, organisation or candidate an event of type `tag` is about,
    which a replacement keeps (None: the event is about none; the `org_id` of a fund or a figure
    may change). The county's projection registry agrees (a test holds it)."""
    if tag.startswith("member.") or tag == "post.cross_assigned":
        return "member_id"
    if tag.startswith("org."):
        return "org_id"
    if tag == "recruitment.reviewed":
        return "candidate_id"
    return None


TargetSeq = Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQ, description="the seq of the event corrected")]
EventId = Annotated[
    str,
    msgspec.Meta(
        pattern=whole(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        description="the event_id of the event corrected (lowercase UUID)",
    ),
]
Reason = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=500, pattern=TEXT_PATTERN, description="why, for the record"),
]
TargetType = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z_]+\.[a-z_]+$")]


class RecordCorrected(EventBody, frozen=True, kw_only=True, tag="record.corrected"):
    """The event `target_seq` of this node (its `target_event_id`) should have said `replacement`:
    a whole record of the target's type, validated as that type."""

    target_seq: TargetSeq
    target_event_id: EventId
    reason: Reason
    replacement: Replacement

    @property
    def target_type(self) -> str:
        return str(type(self.replacement).__struct_config__.tag)


class RecordVoided(EventBody, frozen=True, kw_only=True, tag="record.voided"):
    """The event `target_seq` of this node (its `target_event_id`, of `target_type`) should not
    have been recorded: from this event's business time on, nothing counts of it."""

    target_seq: TargetSeq
    target_event_id: EventId
    target_type: TargetType
    reason: Reason

    def __post_init__(self) -> None:
        if self.target_type not in VOIDABLE:
            allowed = "member.registered, member.erased, node.* and corrections"
            raise invalid("target_type", f"{self.target_type} cannot be voided (not: {allowed})")


Correction = RecordCorrected | RecordVoided
CORRECTION_TYPES: frozenset[str] = frozenset({"record.corrected", "record.voided"})
