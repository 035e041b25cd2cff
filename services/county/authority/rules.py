"""The rule table: which node may say which event type, about which organisation or member.

A node speaks for the organisations it was enrolled for (`Speaker.orgs`: by default the
organisation of its own id) — their funds, pioneer figures, organisational life — and for the
members it registered or that moved to one of its organisations. The county office's node
(`Speaker.office`, the county organisation department) speaks for the organisation tree and,
through its own organisation (the county committee), for the county's funds.

`RULES` gives each event type of the catalog its rule: `who` says it in the design's words (the
table of docs/authority.md, which a test compares with this one), `reasons` the refusals it can
give, and `check` the verdict on one event from its payload and its node alone. The member rule
needs more — the member's registrations and moves, from other nodes too — so `check` passes those
events and `screen` decides them on the member's history. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.catalog import EVENT_TYPES, EventBody
from shared.catalog.base import OrgKind
from shared.catalog.mechanism import ReviewSide

NOT_OWN_ORG = "not_own_org"
"""The event speaks for an organisation that is not the node's."""
NOT_OWN_MEMBER = "not_own_member"
"""The event is about a member the node did not register and who did not move to it."""
OFFICE_ONLY = "office_only"
"""The event is the county office's to say (the organisation tree, the home side of a review)."""
UNKNOWN_TARGET = "unknown_target"
"""A correction names no earlier event of its node."""
NOT_THE_TARGET = "not_the_target"
"""A correction names an event id or type its node's event at that seq does not have."""
NOT_CORRECTABLE = "not_correctable"
"""A correction targets a type that cannot be corrected (or voided)."""
TARGET_VOIDED = "target_voided"
"""A correction targets an event already voided."""
BEFORE_TARGET = "before_target"
"""A correction occurs before the record it would supersede."""
CHANGES_SUBJECT = "changes_subject"
"""A replacement is about another member, organisation or candidate than its target."""
CHANGES_PERSONAL = "changes_personal"
"""A replacement's personal data is not its target's."""
CORRECTION_REASONS = (
    UNKNOWN_TARGET,
    NOT_THE_TARGET,
    NOT_CORRECTABLE,
    TARGET_VOIDED,
    BEFORE_TARGET,
    CHANGES_SUBJECT,
    CHANGES_PERSONAL,
)
REASONS = (NOT_OWN_ORG, NOT_OWN_MEMBER, OFFICE_ONLY, *CORRECTION_REASONS)


@dataclass(frozen=True)
class Speaker:
    """A node as the county enrolled it: the organisations it speaks for, and whether it is the
    county office's."""

    node_id: str
    orgs: frozenset[str]
    office: bool = False

    @classmethod
    def default(cls, node_id: str) -> Speaker:
        """A node enrolled without saying more (or before enrolment said it): the organisation of
        its own id, not the county office."""
        return cls(node_id, frozenset({node_id}))

    def speaks_for(self, org_id: str) -> bool:
        return org_id in self.orgs

    def describe(self) -> str:
        orgs = ", ".join(sorted(self.orgs)) or "no organisation"
        return f"node {self.node_id} ({'the county office, ' if self.office else ''}{orgs})"


@dataclass(frozen=True)
class Refusal:
    """Why an event is not projected: a reason of `REASONS` and a detail naming the field."""

    reason: str
    detail: str


Check = Callable[[Speaker, Any], Refusal | None]


@dataclass(frozen=True)
class Rule:
    who: str
    """Who may say it, as docs/authority.md's table says it."""
    reasons: tuple[str, ...]
    check: Check
    member: bool = False
    """Decided on the member's history too (`screen`), beyond `check`."""


def _own(sp: Speaker, body: Any, field: str = "org_id") -> Refusal | None:
    org = getattr(body, field)
    if org is None or sp.speaks_for(org):
        return None
    return Refusal(NOT_OWN_ORG, f"payload.{field}: {org} is not an organisation of {sp.describe()}")


def _office(sp: Speaker, body: Any) -> Refusal | None:
    if sp.office:
        return None
    tag = type(body).__struct_config__.tag
    return Refusal(OFFICE_ONLY, f"type: {tag} is the county office's to record, not {sp.describe()}'s")


def _office_or_own(sp: Speaker, body: Any) -> Refusal | None:
    return None if sp.office else _own(sp, body)


def _register_org(sp: Speaker, body: Any) -> Refusal | None:
    if sp.office or (body.kind is OrgKind.HOST_ORG and body.parent_id in sp.orgs):
        return None
    return Refusal(
        OFFICE_ONLY,
        f"payload.org_id: the county office registers organisations; {sp.describe()} may register "
        f"only a host organisation (kind host_org) under its own, not {body.org_id} "
        f"(kind {body.kind.value}, parent {body.parent_id})",
    )


def _register_member(sp: Speaker, body: Any) -> Refusal | None:
    return _own(sp, body, "outstation")


def _review(sp: Speaker, body: Any) -> Refusal | None:
    return _own(sp, body) if body.side is ReviewSide.OUTSTATION else _office(sp, body)


def _anyone(_sp: Speaker, _body: Any) -> Refusal | None:
    return None


OWN = Rule("a node of the organisation (`org_id`)", (NOT_OWN_ORG,), _own)
FUNDS = Rule(
    "a node of the organisation (`org_id`); for the county's own funds, the county office's",
    (NOT_OWN_ORG,),
    _own,
)
TREE = Rule("the county office; a node of the organisation (`org_id`)", (NOT_OWN_ORG,), _office_or_own)
REGISTER_ORG = Rule(
    "the county office; another node only its own host organisation (`kind` `host_org`, "
    "`parent_id` its own), and none the county office registered",
    (OFFICE_ONLY,),
    _register_org,
)
OFFICE = Rule("the county office", (OFFICE_ONLY,), _office)
REGISTER_MEMBER = Rule(
    "any node, at its own outstation or at none (`outstation`)", (NOT_OWN_ORG,), _register_member
)
MEMBER = Rule(
    "one of the member's nodes (`member_id`): that registered them, or to whose organisation "
    "they moved, earlier in business order",
    (NOT_OWN_MEMBER,),
    _anyone,
    member=True,
)
REVIEW = Rule(
    "side `outstation`: a node of the organisation (`org_id`); side `home`: the county office",
    (NOT_OWN_ORG, OFFICE_ONLY),
    _review,
)
NODE = Rule("the node itself (its own chain)", (), _anyone)
CORRECTION = Rule(
    "the node that recorded the target (`target_seq`, its own chain), as the target's type allows "
    "and judged on the replacement by the target's rule (§6)",
    (*CORRECTION_REASONS, NOT_OWN_ORG, NOT_OWN_MEMBER, OFFICE_ONLY),
    _anyone,
)

RULES: dict[str, Rule] = {
    "org.registered": REGISTER_ORG,
    "org.secretary_appointed": TREE,
    "org.liaison_assigned": OFFICE,
    "org.venue_opened": TREE,
    "member.registered": REGISTER_MEMBER,
    "member.erased": OFFICE,
    **{
        t: MEMBER
        for t in (
            "member.moved",
            "member.returned",
            "member.contact_lost",
            "member.contact_restored",
            "member.transferred_out",
            "member.details_updated",
            "member.study_account_opened",
            "post.cross_assigned",
        )
    },
    "recruitment.reviewed": REVIEW,
    "orglife.held": OWN,
    "liaison.briefing": OWN,
    "training.held": OWN,
    "fund.received": FUNDS,
    "fund.spent": FUNDS,
    **{
        t: OWN
        for t in (
            "returnee.invested",
            "investment.lead",
            "jobs.posted",
            "jobs.placed",
            "donation.made",
            "dispute.mediated",
            "legal.consulted",
            "service.provided",
            "enterprise.founded",
            "chamber.member_joined",
            "chamber.funds_raised",
            "chamber.project_launched",
        )
    },
    "node.key_rotated": NODE,
    "node.recovered": NODE,
    "record.corrected": CORRECTION,
    "record.voided": CORRECTION,
}
"""Every event type of the catalog, in catalog order, with its rule."""

RULES = {tag: RULES[tag] for tag in EVENT_TYPES}  # catalog order; a KeyError names a type left out


def judge(speaker: Speaker, body: EventBody) -> Refusal | None:
    """The verdict on one event from its payload and node alone (the member rule is `screen`'s)."""
    return RULES[str(type(body).__struct_config__.tag)].check(speaker, body)
