"""The county's key store: members' keys as nodes delivered them, wrapped under the master key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, select, tuple_

from services.county.personal.master import MasterKey
from services.county.personal.tables import member_keys
from shared.envelope import format_time


class Put(StrEnum):
    STORED = "stored"
    AGAIN = "again"
    """The same key was stored before (a redelivery): nothing changes."""
    OTHER = "other"
    """Another key under this member and key id is stored: refused, the first one stays."""


@dataclass(frozen=True)
class KeyStore:
    master: MasterKey

    def put(self, conn: Connection, node_id: str, member_id: str, key_id: str, key: bytes) -> Put:
        c = member_keys.c
        found = conn.execute(
            select(c.wrapped).where(c.member_id == member_id, c.key_id == key_id)
        ).scalar_one_or_none()
        if found is not None:
            return Put.AGAIN if self.master.unwrap(member_id, key_id, found) == key else Put.OTHER
        conn.execute(
            member_keys.insert().values(
                member_id=member_id,
                key_id=key_id,
                node_id=node_id,
                wrapped=self.master.wrap(member_id, key_id, key),
                received_at=format_time(datetime.now(UTC)),
            )
        )
        return Put.STORED

    def get(self, conn: Connection, member_id: str, key_id: str) -> bytes | None:
        return self.many(conn, [(member_id, key_id)]).get((member_id, key_id))

    def many(self, conn: Connection, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        """The keys of these (member id, key id) pairs that are in the store."""
        pairs = sorted(set(wanted))
        out: dict[tuple[str, str], bytes] = {}
        c = member_keys.c
        for start in range(0, len(pairs), 500):
            chunk = pairs[start : start + 500]
            rows = conn.execute(
                select(c.member_id, c.key_id, c.wrapped).where(tuple_(c.member_id, c.key_id).in_(chunk))
            )
            for member_id, key_id, wrapped in rows:
                key = self.master.unwrap(member_id, key_id, wrapped)
                if key is not None:
                    out[(member_id, key_id)] = key
        return out
