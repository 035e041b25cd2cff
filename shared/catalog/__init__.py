"""The event catalog (DESIGN.md §5): every event type, by its stable dotted tag."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from shared.bounds import EARLIEST, EARLIEST_DATE, LATEST
from shared.catalog.base import CHINA_STANDARD_TIME, EventBody, Personal
from shared.catalog.chamber import ChamberFundsRaised, ChamberMemberJoined, ChamberProjectLaunched
from shared.catalog.correction import RecordCorrected, RecordVoided
from shared.catalog.every_error import struct_errors
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
    MemberErased,
    MemberMoved,
    MemberRegistered,
    MemberReturned,
    MemberStudyAccountOpened,
    MemberTransferredOut,
)
from shared.catalog.node import NodeKeyRotated, NodeRecovered
from shared.catalog.org import (
    OrgLiaisonAssigned,
    OrgRegistered,
    OrgSecretaryAppointed,
    OrgVenueOpened,
)
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
from shared.errors import FieldError, from_msgspec, refuse

Event = (
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
    | MemberErased
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
    | NodeKeyRotated
    | NodeRecovered
    | RecordCorrected
    | RecordVoided
)

EVENT_TYPES: dict[str, type[EventBody]] = {cls.__struct_config__.tag: cls for cls in Event.__args__}

MAX_CLOCK_SKEW = timedelta(minutes=10)
"""How far a business time may lie ahead of the recording clock."""

_decoders = {tag: msgspec.json.Decoder(cls) for tag, cls in EVENT_TYPES.items()}


class UnknownTypeError(FieldError):
    def __init__(self, type_: str) -> None:
        super().__init__("type", f"unknown event type {type_!r}")


class FutureSchemaError(FieldError):
    def __init__(self, type_: str, schema: int) -> None:
        known = EVENT_TYPES[type_].SCHEMA
        super().__init__("schema", f"{type_} schema {schema} is newer than this release knows ({known})")


def event_class(type_: str) -> type[EventBody]:
    try:
        return EVENT_TYPES[type_]
    except KeyError:
        raise UnknownTypeError(type_) from None


def decode_payload(type_: str, raw: bytes, schema: int | None = None) -> EventBody:
    """Decode and validate a JSON payload of the given type; errors name `payload.<field>`."""
    cls = event_class(type_)
    if schema is not None and schema > cls.SCHEMA:
        raise FutureSchemaError(type_, schema)
    try:
        body: EventBody = _decoders[type_].decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc, "payload") from None
    except UnicodeDecodeError as exc:  # a string's invalid UTF-8, as msgspec reports it
        raise FieldError("payload", f"not UTF-8: {exc.reason} at byte {exc.start} of a string") from None
    return body


def convert_payload(type_: str, data: Any, *, strict: bool = True) -> EventBody:
    """Validate a payload given as Python values (strict=False accepts strings, as in CSV); a
    refused payload raises every error at once (`shared.errors.FieldErrors`), each `payload.<field>`.

    The node's edges (a form, the API, an import) use this; the county's validation of delivered
    events uses `decode_payload`, which stops at the first error (its reason)."""
    cls = event_class(type_)
    if not isinstance(data, dict):
        raise FieldError("payload", "must be an object")
    data = {**data, "type": type_}
    try:
        body: EventBody = msgspec.convert(data, cls, strict=strict)
    except msgspec.ValidationError as exc:
        refuse(struct_errors(cls, data, strict=strict, path="payload"))
        raise from_msgspec(exc, "payload") from None  # not reached: msgspec's error is among them
    return body


def check_times(body: EventBody, occurred_at: datetime, recorded_at: datetime) -> None:
    """The first of `time_errors`, raised: the county's validation of a delivered event."""
    for error in time_errors(body, occurred_at, recorded_at):
        raise error


def time_errors(body: EventBody | None, occurred_at: datetime, recorded_at: datetime) -> list[FieldError]:
    """Business time may not lie in the future beyond clock skew; nor may past-date fields (of
    `body`, when it is given). Nor either lie outside EARLIEST..LATEST (1900–2200)."""
    if occurred_at.tzinfo is None:
        return [FieldError("occurred_at", "must carry a time zone")]
    errors = []
    if not EARLIEST <= occurred_at < LATEST:
        errors.append(
            FieldError(
                "occurred_at",
                f"{occurred_at.isoformat()} is not between {EARLIEST_DATE} and {LATEST.date()}",
            )
        )
    elif occurred_at > recorded_at + MAX_CLOCK_SKEW:
        errors.append(
            FieldError(
                "occurred_at",
                f"{occurred_at.isoformat()} is in the future (recorded {recorded_at.isoformat()})",
            )
        )
    if body is None or not body.PAST_DATES or not EARLIEST <= occurred_at < LATEST:
        return errors
    limit = (occurred_at + MAX_CLOCK_SKEW).astimezone(CHINA_STANDARD_TIME).date()
    for name in body.PAST_DATES:
        value = getattr(body, name)
        if value is not None and value > limit:
            errors.append(FieldError(f"payload.{name}", f"{value} is after the event's occurred_at"))
        elif value is not None and value < EARLIEST_DATE:
            errors.append(FieldError(f"payload.{name}", f"{value} is before {EARLIEST_DATE}"))
    return errors


__all__ = [
    "EVENT_TYPES",
    "MAX_CLOCK_SKEW",
    "Event",
    "EventBody",
    "FutureSchemaError",
    "Personal",
    "UnknownTypeError",
    "check_times",
    "convert_payload",
    "decode_payload",
    "event_class",
    "time_errors",
]
