"""What clerks and clients send: one event as {type, occurred_at, payload}, from JSON, CSV or options.

Every way in (HTTP, CLI, a file) goes through `parse_json` and `parse_item`, so a value out of
bounds (`shared.bounds`: nesting depth, times, text without control characters) is refused the
same way everywhere, naming the field, before anything is appended.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any, Protocol

from services.branch_node.application import NewEvent
from shared.bounds import check_depth
from shared.catalog import convert_payload, event_class, time_errors
from shared.catalog.base import CHINA_STANDARD_TIME, id_number_problem
from shared.errors import FieldError, refuse


class MemberIds(Protocol):
    """Who gives a new registration its member id (the node's key store, `keystore.KeyStore`)."""

    def assign(self, id_number: str) -> str:
        """The member this ID number belongs to here, else a fresh random id; persists nothing."""
        ...


def parse_json(text: str | bytes, field: str = "body") -> Any:
    """JSON as sent to the node, or a FieldError naming `field`: too deeply nested (checked before
    the parser recurses), not JSON, or holding a lone surrogate (text without a UTF-8 form)."""
    check_depth(text, field)
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, a number of more than 4,300 digits
        detail = f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise FieldError(field, f"not valid JSON: {detail}") from None
    if _has_surrogate(value):
        raise FieldError(field, "holds a lone surrogate escape (\\ud800–\\udfff), which is no character")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def parse_time(value: Any, field: str = "occurred_at") -> datetime:
    """RFC 3339 time; a time without zone, or a bare date, is read as China Standard Time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FieldError(
                field, f"{value!r} is not a date-time such as 2026-11-27T09:30:00+08:00"
            ) from None
        if len(value.strip()) == 10:  # a bare date
            moment = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
    else:
        raise FieldError(field, "must be a date-time string")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_STANDARD_TIME)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in China is still year 0 in UTC
        raise FieldError(field, f"{value!r} is out of range") from None


def parse_item(item: Any, ids: MemberIds, *, strict: bool = True, now: datetime | None = None) -> NewEvent:
    """Validate one request item; a registration without a member id is given one by `ids` (the
    member this node already indexes under the ID number, else a random one).

    Every bad field is refused at once (`shared.errors.FieldErrors`): the item's own (`type`
    aside, which says what the payload must be), each of the payload's, and a time the log would
    refuse; the log's other rules (past dates, a member's history) follow once the payload reads."""
    if not isinstance(item, dict):
        raise FieldError("", "each event must be an object with type, occurred_at and payload")
    type_ = item.get("type")
    if not isinstance(type_, str):
        raise FieldError("type", "required: the event type, e.g. member.registered")
    event_class(type_)
    errors = [
        FieldError(name, "unknown field (expected type, occurred_at, payload)")
        for name in sorted(set(item) - {"type", "occurred_at", "payload"})
    ]
    payload = item.get("payload")
    body = None
    if not isinstance(payload, dict):
        errors.append(FieldError("payload", "required: an object with the event's fields"))
    else:
        if type_ == "member.registered":
            payload = _with_member_id(payload, ids, errors)
        try:
            body = convert_payload(type_, payload, strict=strict)
        except FieldError as exc:
            named = {e.field for e in errors}  # an ID number refused above is refused once
            errors.extend(e for e in exc.all() if e.field not in named)
    occurred = item.get("occurred_at")
    now = now or datetime.now(UTC)
    try:
        occurred_at = parse_time(occurred) if occurred not in (None, "") else now
    except FieldError as exc:
        errors.append(exc)
    else:
        if errors:  # the time too, as the log will check it (it never sees a refused payload)
            errors.extend(time_errors(None, occurred_at, now))
    refuse(errors)
    assert body is not None
    return NewEvent(body=body, occurred_at=occurred_at)


STAND_IN_MEMBER = "0" * 32
"""The member id a registration is checked with while its ID number is refused: the refusal is
reported, so the stand-in never reaches an event."""


def _with_member_id(payload: dict[str, Any], ids: MemberIds, errors: list[FieldError]) -> dict[str, Any]:
    """A given member id (an import, a move from elsewhere) is kept: the key store refuses it at
    sealing if the ID number is another member's here. Without one, the ID number gives it; an ID
    number missing or refused is added to `errors`, and the rest of the payload still checked."""
    if payload.get("member_id") not in (None, ""):
        return payload
    personal = payload.get("personal")
    if not isinstance(personal, dict) or not isinstance(personal.get("id_number"), str):
        errors.append(FieldError("payload.personal.id_number", "required field is missing"))
        return {**payload, "member_id": STAND_IN_MEMBER}
    if problem := id_number_problem(personal["id_number"]):
        errors.append(FieldError("payload.personal.id_number", problem))
        return {**payload, "member_id": STAND_IN_MEMBER}
    return {**payload, "member_id": ids.assign(personal["id_number"])}


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    """`personal.name=张三` → target["personal"]["name"] = "张三"."""
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise FieldError(dotted, f"{part} is not an object")
    target[leaf] = value


def cell_value(text: str) -> Any:
    """A CSV cell or a --field value: JSON lists/objects are parsed, all else stays text."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return parse_json(stripped, "cell")
        except FieldError:
            return text
    return stripped
