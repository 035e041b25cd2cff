"""Checking events as recording would, without appending: for typing on a form and import previews."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from services.branch_node.application import NewEvent
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared.catalog.base import Personal
from shared.errors import FieldError


def check_item(node: NodeService, item: Any) -> tuple[NewEvent | None, list[FieldError]]:
    """Every error `parse_item` finds (every bad field at once), else every error of the log's
    own rules (times, a member's history here); the event only when nothing was refused."""
    try:
        new = parse_item(item, node.keys)
    except FieldError as exc:
        return None, exc.all()
    refused = dry_run(node, [new])
    return (None, [e for _, e in refused]) if refused else (new, [])


def dry_run(node: NodeService, events: Sequence[NewEvent]) -> list[tuple[int, FieldError]]:
    """What the log would refuse of this batch (times, a member's history here), and an ID number
    already another member's here; appending nothing, keeping no key. An event refused for
    several fields is listed once for each."""
    refused = dict(node.log.check(events))
    for i, new in enumerate(events):
        personal = getattr(new.body, "personal", None)
        member_id = getattr(new.body, "member_id", None)
        if i in refused or not isinstance(personal, Personal) or not isinstance(member_id, str):
            continue
        if (conflict := node.keys.conflict(member_id, personal)) is not None:
            refused[i] = conflict
    return [(i, e) for i, error in sorted(refused.items(), key=lambda ie: ie[0]) for e in error.all()]


def masked(id_number: str) -> str:
    """An ID number as a list may show it: region and last four, the birth date hidden."""
    return id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:]


def shown(new: NewEvent) -> dict[str, Any]:
    """An event's fields for a preview, with personal data masked."""
    fields: dict[str, Any] = msgspec.to_builtins(new.body)
    fields.pop("type", None)
    personal = fields.get("personal")
    if isinstance(personal, dict):
        personal["id_number"] = masked(str(personal.get("id_number", "")))
        if personal.get("phone"):
            phone = str(personal["phone"])
            personal["phone"] = phone[:3] + "****" + phone[-4:]
    fields["occurred_at"] = new.occurred_at.isoformat()
    return fields
