"""Checking events as recording would, without appending: for typing on a form and import previews."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import msgspec

from services.branch_node.application import NewEvent
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared.catalog.base import Personal
from shared.errors import FieldError

STAND_INS = {"payload.personal.id_number": "11010519491231002X"}
"""Valid values put in place of a refused required field, so the other fields are checked too."""


def check_item(node: NodeService, item: Any) -> tuple[NewEvent | None, list[FieldError]]:
    """Every error `parse_item` finds, one field at a time, then the log's own rules.

    A refused field is taken out (or replaced by a stand-in) and the item checked again, so
    a form shows each bad field at once; the event is returned only when nothing was refused.
    """
    errors: list[FieldError] = []
    trial = copy.deepcopy(item)
    for _ in range(20):
        try:
            new = parse_item(trial, node.keys)
        except FieldError as exc:
            if any(e.field == exc.field for e in errors) or not _take_out(trial, exc.field):
                if all(e.field != exc.field for e in errors):
                    errors.append(exc)
                break
            errors.append(exc)
            continue
        if errors:
            break
        refused = dry_run(node, [new])
        return (None, [e for _, e in refused]) if refused else (new, [])
    return None, errors


def _take_out(item: Any, path: str) -> bool:
    """Remove (or stand in for) the value at a dotted path; False when there is nothing to do."""
    *parents, leaf = path.split(".")
    target = item
    for part in parents:
        if path in STAND_INS and isinstance(target, dict) and not isinstance(target.get(part), dict):
            target[part] = {}
        target = target.get(part) if isinstance(target, dict) else None
    if not isinstance(target, dict):
        return False
    if path in STAND_INS and target.get(leaf) != STAND_INS[path]:
        target[leaf] = STAND_INS[path]
    elif leaf in target:
        del target[leaf]
    else:
        return False
    return True


def dry_run(node: NodeService, events: Sequence[NewEvent]) -> list[tuple[int, FieldError]]:
    """What the log would refuse of this batch (times, a member's history here), and an ID number
    already another member's here; appending nothing, keeping no key."""
    refused = dict(node.log.check(events))
    for i, new in enumerate(events):
        personal = getattr(new.body, "personal", None)
        member_id = getattr(new.body, "member_id", None)
        if i in refused or not isinstance(personal, Personal) or not isinstance(member_id, str):
            continue
        if (conflict := node.keys.conflict(member_id, personal)) is not None:
            refused[i] = conflict
    return sorted(refused.items(), key=lambda ie: ie[0])


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
