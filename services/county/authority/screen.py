"""The screen: which archived events the projections see, and which are refused claims.

Every event is archived as its node signed it; the screen decides, as a pure function of the
archive and of who each node is (`Speakers`, from enrolment), which of them the projections
apply. It runs wherever the projections are derived — the live ingest, `county rebuild`, an
audit replay, the `as_of` re-derivations — so every one of them decides alike:

- an event about no entity (funds, pioneer work, organisational life) is judged on its own
  (`rules.judge`): the same verdict whatever else arrives, ever;
- an event about a member is judged on the member's history, in business order: a node speaks
  for the member once it registered them, or once the member moved to one of its organisations,
  by the events admitted so far. Whenever an event about the member arrives, from any node, the
  member is derived again and every event about them judged again, so a verdict depends on the
  member's events, never on their arrival order;
- an organisation's registration by an outstation stands only where the county office did not
  register that organisation, among all of the organisation's events;
- a correction about an entity (`record.corrected`, `record.voided`: the archive files it under
  its target's entity) is decided first (`corrections.resolve`), and the entity's events are then
  judged as their effective records say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from services.county.authority.corrections import Resolved, resolve
from services.county.authority.rules import NOT_OWN_MEMBER, OFFICE_ONLY, RULES, Refusal, Speaker, judge
from services.county.projections.fact import CANDIDATE, MEMBER, ORG, Fact
from shared.catalog.member import MemberMoved, MemberRegistered
from shared.catalog.org import OrgRegistered


class Speakers:
    """Who each node is (`Speaker`), by node id; a node the county has no row for speaks as
    enrolment says by default (`Speaker.default`)."""

    def __init__(self, known: Mapping[str, Speaker] | None = None) -> None:
        self.known = dict(known or {})

    def of(self, node_id: str) -> Speaker:
        found = self.known.get(node_id)
        return found if found is not None else Speaker.default(node_id)


@dataclass
class Screened:
    """Events split into those the projections apply and the refused claims, each with why."""

    admitted: list[Fact] = field(default_factory=list)
    refused: list[tuple[Fact, Refusal]] = field(default_factory=list)
    resolved: Resolved | None = None
    """How the corrections among an entity's events were decided (None: events about no entity)."""


SUBJECT_FIELD = {MEMBER: "member_id", ORG: "org_id", CANDIDATE: "candidate_id"}
"""The payload field naming the entity an event of each kind is about."""


def screen_events(facts: Iterable[Fact], speakers: Speakers) -> Screened:
    """Events about no entity: each judged on its payload and its node alone."""
    out = Screened()
    for fact in facts:
        refusal = judge(speakers.of(fact.node_id), fact.body)
        if refusal is None:
            out.admitted.append(fact)
        else:
            out.refused.append((fact, refusal))
    return out


def screen_entity(kind: str, entity_id: str, facts: Sequence[Fact], speakers: Speakers) -> Screened:
    """Every event about one entity (`fact.MEMBER`, `ORG`, `CANDIDATE`), judged together, as their
    effective records say once the corrections among them are decided."""
    resolved = resolve(facts, speakers.of, (SUBJECT_FIELD[kind], entity_id))
    if kind == MEMBER:
        out = _member(entity_id, resolved.facts, speakers)
    elif kind == ORG:
        out = _org(entity_id, resolved.facts, speakers)
    else:
        out = screen_events(resolved.facts, speakers)
    out.refused = resolved.refused + out.refused
    out.resolved = resolved
    return out


def _member(member_id: str, facts: Sequence[Fact], speakers: Speakers) -> Screened:
    out = Screened()
    registrants: set[str] = set()
    moved_to: set[str] = set()
    for fact in sorted(facts, key=lambda f: f.order):
        speaker = speakers.of(fact.node_id)
        refusal = judge(speaker, fact.body)
        holds = fact.node_id in registrants or bool(speaker.orgs & moved_to)
        if refusal is None and RULES[fact.type].member and not holds:
            refusal = Refusal(NOT_OWN_MEMBER, _not_holder(member_id, speaker, registrants, moved_to))
        if refusal is not None:
            out.refused.append((fact, refusal))
            continue
        out.admitted.append(fact)
        if isinstance(fact.body, MemberRegistered):
            registrants.add(fact.node_id)
        elif isinstance(fact.body, MemberMoved) and fact.body.outstation is not None:
            moved_to.add(fact.body.outstation)
    return out


def _not_holder(member_id: str, speaker: Speaker, registrants: set[str], moved_to: set[str]) -> str:
    by = ", ".join(sorted(registrants)) or "no node yet"
    to = f"; moved to {', '.join(sorted(moved_to))}" if moved_to else ""
    return (
        f"payload.member_id: member {member_id} is not {speaker.describe()}'s to speak for "
        f"(registered by {by}{to}, before this event)"
    )


def _org(org_id: str, facts: Sequence[Fact], speakers: Speakers) -> Screened:
    out = Screened()
    by_office = any(isinstance(f.body, OrgRegistered) and speakers.of(f.node_id).office for f in facts)
    for fact in facts:
        speaker = speakers.of(fact.node_id)
        refusal = judge(speaker, fact.body)
        if refusal is None and by_office and isinstance(fact.body, OrgRegistered) and not speaker.office:
            refusal = Refusal(
                OFFICE_ONLY,
                f"payload.org_id: {org_id} is registered by the county office; {speaker.describe()} "
                "may not register it again",
            )
        if refusal is None:
            out.admitted.append(fact)
        else:
            out.refused.append((fact, refusal))
    return out
