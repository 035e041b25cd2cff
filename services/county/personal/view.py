"""Members' personal data as every read shows it: masked by default, revealed by right.

The roster holds a sealed personal as its JSON (`projections/roster.py`); at read time it is
opened with the key store: the name in clear, the ID number and phone masked
(`4311**********0898`, `138****5678`), or in full for a recorded reveal (`reveals.py`). Before
the member's key has arrived the name reads `KEY_MISSING`. An older clear event's member shows
the name the roster kept; their ID number and phone are not in the roster (null).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, select

from services.county.personal.store import KeyStore
from services.county.personal.tables import erased_members
from shared.catalog.base import Personal
from shared.personal import ERASED, SealError, mask_id_number, mask_phone, unseal

KEY_MISSING = "（密钥未到）"
"""The name of a member whose key has not reached the county yet."""
UNREADABLE = "（无法解密）"
"""The name of a member whose sealed personal does not open under the key stored for it."""


@dataclass(frozen=True)
class PersonalView:
    store: KeyStore | None = None

    def present(self, conn: Connection, items: Iterable[dict[str, Any]], *, reveal: bool = False) -> None:
        """Replace each item's `personal` (the roster's JSON, or None) with `name`, `id_number`
        and `phone`: masked unless `reveal`."""
        items = list(items)
        sealed: dict[int, Personal] = {}
        for i, item in enumerate(items):
            text = item.pop("personal", None)
            if text is not None:
                sealed[i] = msgspec.json.decode(text, type=Personal)
        wanted = [(items[i]["member_id"], p.sealed.key_id) for i, p in sealed.items() if p.sealed is not None]
        keys = self.store.many(conn, wanted) if self.store is not None and wanted else {}
        erased = _erased(conn, [m for m, _ in wanted if (m, _) not in keys])
        for i, item in enumerate(items):
            item.setdefault("id_number", None)
            item.setdefault("phone", None)
            personal = sealed.get(i)
            if personal is None or personal.sealed is None:
                item["id_number"], item["phone"] = None, None
                continue
            key = keys.get((item["member_id"], personal.sealed.key_id))
            if key is None:  # erased since (a replay of a past state still holds the box), or not here yet
                item.update(
                    name=ERASED if item["member_id"] in erased else KEY_MISSING, id_number=None, phone=None
                )
                continue
            try:
                clear = unseal(personal, key, item["member_id"])
            except SealError:
                item.update(name=UNREADABLE, id_number=None, phone=None)
                continue
            item["name"] = clear.name
            item["id_number"] = clear.id_number if reveal else mask_id_number(clear.id_number)
            item["phone"] = clear.phone if reveal else mask_phone(clear.phone)

    def names(self, conn: Connection, items: Iterable[dict[str, Any]]) -> None:
        """`present` for a listing that shows members' names only (no ID number, no phone)."""
        items = list(items)
        self.present(conn, items)
        for item in items:
            item.pop("id_number", None)
            item.pop("phone", None)


def _erased(conn: Connection, member_ids: list[str]) -> set[str]:
    if not member_ids:
        return set()
    e = erased_members.c
    wanted = sorted(set(member_ids))
    return set(conn.execute(select(e.member_id).where(e.member_id.in_(wanted))).scalars())


MASKED = PersonalView()
"""A view without the key store: every sealed member reads `KEY_MISSING`."""
