"""What clerks and clients send: one event as {type, occurred_at, payload}, from JSON, CSV or options."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.branch_node.application import NewEvent
from shared.catalog import convert_payload
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.errors import FieldError
from shared.identity import member_id


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
    return moment.astimezone(UTC)


def parse_item(
    item: Any, county_secret: bytes, *, strict: bool = True, now: datetime | None = None
) -> NewEvent:
    """Validate one request item; a member's id is derived from the ID number when absent."""
    if not isinstance(item, dict):
        raise FieldError("", "each event must be an object with type, occurred_at and payload")
    type_ = item.get("type")
    if not isinstance(type_, str):
        raise FieldError("type", "required: the event type, e.g. member.registered")
    unknown = set(item) - {"type", "occurred_at", "payload"}
    if unknown:
        raise FieldError(sorted(unknown)[0], "unknown field (expected type, occurred_at, payload)")
    occurred = item.get("occurred_at")
    occurred_at = parse_time(occurred) if occurred not in (None, "") else (now or datetime.now(UTC))
    payload = item.get("payload")
    if not isinstance(payload, dict):
        raise FieldError("payload", "required: an object with the event's fields")
    if type_ == "member.registered":
        payload = _with_member_id(payload, county_secret)
    return NewEvent(body=convert_payload(type_, payload, strict=strict), occurred_at=occurred_at)


def _with_member_id(payload: dict[str, Any], county_secret: bytes) -> dict[str, Any]:
    personal = payload.get("personal")
    if not isinstance(personal, dict) or not isinstance(personal.get("id_number"), str):
        raise FieldError("payload.personal.id_number", "required field is missing")
    try:
        derived = member_id(county_secret, personal["id_number"])
    except FieldError as exc:
        raise exc.within("payload") from None
    given = payload.get("member_id")
    if given not in (None, "", derived):
        raise FieldError("payload.member_id", "does not match the ID number under this county's secret")
    return {**payload, "member_id": derived}


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
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    return stripped


@dataclass
class ParsedFile:
    """A file's events, the line each came from, and every refused line with its reason."""

    events: list[NewEvent] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_file(text: str, kind: str, default_type: str | None, county_secret: bytes) -> ParsedFile:
    """Parse a .csv or .jsonl file; CSV cells are text, so numbers and dates are converted."""
    rows = read_csv(text, default_type) if kind == "csv" else read_jsonl(text)
    parsed = ParsedFile()
    for line, item in rows:
        try:
            if isinstance(item, FieldError):
                raise item
            parsed.events.append(parse_item(item, county_secret, strict=kind != "csv"))
            parsed.lines.append(line)
        except FieldError as exc:
            parsed.problems.append(f"line {line}: {exc}")
    return parsed


def read_jsonl(text: str) -> Iterable[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, FieldError("", f"not valid JSON: {exc.msg} (column {exc.colno})")


def read_csv(text: str, default_type: str | None) -> Iterable[tuple[int, Any]]:
    """Header row names fields: `type`, `occurred_at` and payload fields (dotted for nesting)."""
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        item: dict[str, Any] = {"payload": {}}
        if default_type:
            item["type"] = default_type
        for key, cell in row.items():
            if key is None or cell is None or cell.strip() == "":
                continue
            if key in ("type", "occurred_at"):
                item[key] = cell.strip()
            else:
                set_dotted(item["payload"], key.strip(), cell_value(cell))
        yield reader.line_num, item
