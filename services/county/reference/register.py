"""The org register kept: a checked tree written in one transaction, only what changed, and read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from services.county.reference.org_sheet import OrgRow, ParsedSheet, read_sheet
from services.county.reference.tables import org_register
from shared.envelope import format_time

_FIELDS = ("kind", "name", "parent_id", "node_id", "host_location", "mode")


@dataclass(frozen=True)
class Loaded:
    """What a load did: rows added, rows changed, rows as they were."""

    added: int
    changed: int
    unchanged: int


def known_kinds(conn: Connection) -> dict[str, str]:
    """Org id → kind of every organisation in the register."""
    c = org_register.c
    return {r.org_id: r.kind for r in conn.execute(select(c.org_id, c.kind))}


def registered(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every row of the register by org id (kind, name, parent_id, node_id, host_location, mode)."""
    c = org_register.c
    rows = conn.execute(select(c.org_id, *(c[f] for f in _FIELDS)).order_by(c.org_id)).mappings()
    return {r["org_id"]: dict(r) for r in rows}


def store(conn: Connection, rows: list[OrgRow]) -> Loaded:
    """Add new organisations, update changed ones; rows the file does not name stay (a file may
    load part of the tree). Idempotent: the same file again changes nothing."""
    before = registered(conn)
    now = format_time(datetime.now(UTC))
    added = changed = 0
    for row in rows:
        values = row.columns()
        old = before.get(row.org_id)
        if old is None:
            conn.execute(org_register.insert().values(**values, loaded_at=now))
            added += 1
        elif any(old[f] != values[f] for f in _FIELDS):
            conn.execute(
                update(org_register)
                .where(org_register.c.org_id == row.org_id)
                .values(**{f: values[f] for f in _FIELDS}, loaded_at=now)
            )
            changed += 1
    return Loaded(added, changed, len(rows) - added - changed)


def load_file(engine: Engine, data: bytes) -> tuple[ParsedSheet, Loaded | None]:
    """Check the workbook against the register and, only if it has no error, store it."""
    with engine.begin() as conn:
        parsed = read_sheet(data, known_kinds(conn))
        if parsed.errors:
            return parsed, None
        return parsed, store(conn, parsed.rows)


def version(conn: Connection) -> tuple[int, str | None]:
    """Rows and the newest change of the register: what the publisher watches."""
    c = org_register.c
    count, newest = conn.execute(select(func.count(), func.max(c.loaded_at))).one()
    return int(count), newest
