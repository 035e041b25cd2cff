"""Corrections decided: which `record.corrected` / `record.voided` stand, and each event's effective record.

A node corrects or voids its own earlier events (`shared.catalog.correction`). Given a set of
archived events — one entity's, or one corrected event about no entity with its corrections —
`resolve` decides every correction among them in seq order (docs/authority.md §6):

- `unknown_target`: no event `target_seq` of the node earlier than the correction;
- `not_the_target`: the event there has another event id or type than the correction names;
- `not_correctable`: its type cannot be corrected (or voided) at all;
- `target_voided`: it was voided by an earlier void (a void is final);
- `before_target`: the correction occurs before the record it would supersede;
- `changes_subject`: the replacement is about another member, organisation or candidate;
- `changes_personal`: the replacement's `personal` is not the target's;
- and the target type's own rule, judged on the replacement (`rules.judge`).

What stands gives each corrected event its **versions**: the original from its occurrence, each
standing correction's replacement from that correction's business time, until the next; a void
ends the last. An effective record keeps the original's node, seq, business time and event id, so
every projection places it where the original stood. Pure: a function of the events alone (and
of who each node is), so live, rebuild, replay and `as_of` decide alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from services.county.authority.rules import (
    BEFORE_TARGET,
    CHANGES_PERSONAL,
    CHANGES_SUBJECT,
    NOT_CORRECTABLE,
    NOT_THE_TARGET,
    TARGET_VOIDED,
    UNKNOWN_TARGET,
    Refusal,
    Speaker,
    judge,
)
from services.county.projections.fact import Fact
from shared.catalog.correction import CORRECTABLE, CORRECTION_TYPES, VOIDABLE, RecordCorrected, RecordVoided


@dataclass(frozen=True)
class Version:
    """One effective record of a corrected event over business time: `fact` (None: voided) is in
    effect from `valid_from` (None: the original, from its occurrence) until `valid_to` (None: now)."""

    fact: Fact | None
    by: Fact
    """The event that says it: the original, or the correction."""
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass
class Resolved:
    """The events with corrections applied: `facts` (each event not itself a correction, as its
    newest standing version says, voided ones left out), every `versions` of the corrected ones by
    (node, seq), and the refused corrections with why."""

    facts: list[Fact] = field(default_factory=list)
    versions: dict[tuple[str, int], list[Version]] = field(default_factory=dict)
    refused: list[tuple[Fact, Refusal]] = field(default_factory=list)
    standing: list[Fact] = field(default_factory=list)
    """The corrections that stand, in seq order."""


def is_correction(fact: Fact) -> bool:
    return fact.type in CORRECTION_TYPES


def resolve(
    facts: Sequence[Fact], speaker_of: Callable[[str], Speaker], subject: tuple[str, str] | None = None
) -> Resolved:
    """Decide every correction among `facts` (`speaker_of`: who a node is); `subject` (field, id):
    the entity the events are about, which a replacement must stay about."""
    events = {(f.node_id, f.seq): f for f in facts if not is_correction(f)}
    out = Resolved()
    for c in sorted((f for f in facts if is_correction(f)), key=lambda f: (f.node_id, f.seq)):
        target = events.get((c.node_id, c.body.target_seq)) if c.body.target_seq < c.seq else None  # type: ignore[attr-defined]
        versions = out.versions.get((c.node_id, target.seq)) if target is not None else None
        refusal = _refusal(c, target, versions, speaker_of(c.node_id), subject)
        if refusal is not None:
            out.refused.append((c, refusal))
            continue
        assert target is not None
        versions = out.versions.setdefault((c.node_id, target.seq), [Version(target, target)])
        body = c.body
        new = replace(target, body=body.replacement) if isinstance(body, RecordCorrected) else None
        versions[-1] = replace(versions[-1], valid_to=c.occurred_at)
        versions.append(Version(new, c, c.occurred_at))
        out.standing.append(c)
    for ref, f in events.items():
        current = out.versions[ref][-1].fact if ref in out.versions else f
        if current is not None:
            out.facts.append(current)
    return out


def _refusal(
    c: Fact,
    target: Fact | None,
    versions: list[Version] | None,
    speaker: Speaker,
    subject: tuple[str, str] | None,
) -> Refusal | None:
    body = c.body
    assert isinstance(body, RecordCorrected | RecordVoided)
    where = f"node {c.node_id}"
    if target is None:
        return Refusal(
            UNKNOWN_TARGET,
            f"payload.target_seq: {where} has no event {body.target_seq} before this one ({c.seq})",
        )
    if target.event_id != body.target_event_id or target.type != body.target_type:
        return Refusal(
            NOT_THE_TARGET,
            f"payload.target_event_id: event {target.seq} of {where} is {target.type} {target.event_id}, "
            f"not {body.target_type} {body.target_event_id}",
        )
    allowed = CORRECTABLE if isinstance(body, RecordCorrected) else VOIDABLE
    if target.type not in allowed:
        verb = "corrected" if isinstance(body, RecordCorrected) else "voided"
        return Refusal(NOT_CORRECTABLE, f"payload.target_seq: a {target.type} cannot be {verb}")
    last = versions[-1] if versions else Version(target, target)
    if last.fact is None:
        return Refusal(
            TARGET_VOIDED,
            f"payload.target_seq: event {target.seq} was voided by seq {last.by.seq}; a void is final",
        )
    since = last.valid_from or target.occurred_at
    if c.occurred_at < since:
        return Refusal(
            BEFORE_TARGET,
            f"occurred_at: {c.occurred_at} is before the record it supersedes ({since}, seq {last.by.seq})",
        )
    if isinstance(body, RecordVoided):
        return None
    return _replacement_refusal(body, target, speaker, subject)


def _replacement_refusal(
    body: RecordCorrected, target: Fact, speaker: Speaker, subject: tuple[str, str] | None
) -> Refusal | None:
    new = body.replacement
    if subject is not None:
        name, entity_id = subject
        if getattr(new, name, None) != entity_id:
            return Refusal(
                CHANGES_SUBJECT,
                f"payload.replacement.{name}: {getattr(new, name, None)} is not {entity_id}, whom event "
                f"{target.seq} is about; void it and record the event anew",
            )
    if getattr(new, "personal", None) != getattr(target.body, "personal", None):
        return Refusal(
            CHANGES_PERSONAL,
            "payload.replacement.personal: must be the target's as recorded; a name, ID number or "
            "phone changes through member.details_updated",
        )
    found = judge(speaker, new)
    if found is None:
        return None
    return Refusal(found.reason, found.detail.replace("payload.", "payload.replacement.", 1))
