"""The node's recent records, newest first, as a clerk reads them to correct one: read from its own
log, names opened with its own key store, never an ID number in full (its last four only)."""

from __future__ import annotations

from typing import Any

import msgspec

from services.branch_node.application import NodeLog
from services.branch_node.corrections import CorrectionIndex, Fix
from services.branch_node.domain import Recorded
from services.branch_node.keystore import KeyStore
from services.branch_node.mapper import decode_recorded
from services.branch_node.members import MemberIndex, id_tail
from shared.catalog.base import Personal
from shared.catalog.correction import CORRECTABLE, VOIDABLE, RecordCorrected, RecordVoided
from shared.envelope import format_time
from shared.personal import ERASED

MAX_LIMIT = 100
MAX_NAMES = 50
"""Names given per record (attendees beyond them are counted, not named)."""
CARRIED = ("member.registered", "member.details_updated")
"""Types whose correction must carry fields a form does not show: the member id and the sealed
personal data, which a correction keeps as recorded."""


class RecentRecords:
    """Pages of the log, newest first, with each record's corrections."""

    def __init__(self, log: NodeLog, keys: KeyStore, members: MemberIndex) -> None:
        self.log = log
        self.keys = keys
        self.members = members
        self.fixes: CorrectionIndex = log.fixes

    def page(self, before: int | None, limit: int) -> dict[str, Any]:
        """Up to `limit` records with seq below `before` (None: the newest), newest first."""
        last = self.log.last_seq()
        end = min(before if before is not None else last + 1, last + 1)
        start = max(1, end - limit)
        notes = self.log.notifications_after(start - 1, end - start) if end > start else []
        fixes = self.fixes.fixes()
        names = {m.member_id: f"{m.name}（尾号{m.id_tail}）" for m in self.members.all()}
        records = [self._item(n.id, decode_recorded(n.state), fixes, names) for n in reversed(notes)]
        return {"records": records, "next_before": start if start > 1 else None, "last_seq": last}

    def _item(
        self, seq: int, rec: Recorded, fixes: dict[int, list[Fix]], names: dict[str, str]
    ) -> dict[str, Any]:
        body = rec.body
        tag = str(type(body).__struct_config__.tag)
        mine = fixes.get(seq, [])
        effective = self._effective(mine) or body
        voided = any(f.voids for f in mine)
        item: dict[str, Any] = {
            "seq": seq,
            "event_id": str(rec.event_id),
            "type": tag,
            "occurred_at": format_time(rec.occurred_at),
            "recorded_at": format_time(rec.timestamp),
            "fields": self._fields(effective),
            "names": _names(effective, names),
            "state": "voided" if voided else "corrected" if mine else None,
            "corrections": [
                {
                    "seq": f.seq,
                    "voids": f.voids,
                    "occurred_at": format_time(f.occurred_at),
                    "reason": f.reason,
                }
                for f in mine
            ],
            "correctable": tag in CORRECTABLE and not voided,
            "voidable": tag in VOIDABLE and not voided,
            "corrects": None,
            "reason": None,
            "carry": None,
        }
        if isinstance(body, RecordCorrected | RecordVoided):
            item.update(corrects=body.target_seq, reason=body.reason, fields=self._fields(body))
            item["names"] = _names(body.replacement, names) if isinstance(body, RecordCorrected) else {}
        if tag in CARRIED and not voided:
            carry = {"member_id": getattr(effective, "member_id")}  # noqa: B009 (a member event)
            personal = getattr(effective, "personal", None)
            carry["personal"] = msgspec.to_builtins(personal) if personal is not None else None
            item["carry"] = carry
        return item

    def _effective(self, mine: list[Fix]) -> Any:
        """The newest correction's replacement, if one stands (None: the original, or voided)."""
        corrections = [f for f in mine if not f.voids]
        if not corrections or any(f.voids for f in mine):
            return None
        (note,) = self.log.notifications_after(corrections[-1].seq - 1, 1)
        body = decode_recorded(note.state).body
        return body.replacement if isinstance(body, RecordCorrected) else None

    def _fields(self, body: Any) -> dict[str, Any]:
        """The business fields; personal data opened to the name and the ID number's last four."""
        fields: dict[str, Any] = msgspec.to_builtins(body)
        fields.pop("type", None)
        if isinstance(body, RecordCorrected):
            fields["replacement"] = self._fields(body.replacement)
            fields["replacement"]["type"] = body.target_type
        personal = getattr(body, "personal", None)
        if isinstance(personal, Personal):
            opened = self.keys.open(getattr(body, "member_id", ""), personal)
            fields["personal"] = {
                "name": opened.name if opened is not None and opened.name else ERASED,
                "id_tail": id_tail(opened.id_number) if opened is not None and opened.id_number else ERASED,
            }
        return fields


def _names(body: Any, names: dict[str, str]) -> dict[str, str]:
    """The members a record names (member, candidate, attendees: the first MAX_NAMES), by id."""
    ids = [getattr(body, f, None) for f in ("member_id", "candidate_id")]
    ids += list(getattr(body, "attendees", None) or [])[:MAX_NAMES]
    return {i: names.get(i, "（非本站登记）") for i in ids if isinstance(i, str)}
