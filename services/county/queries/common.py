"""What every read query shares: the names of things, the organisation tree, dates and ordering."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Column, Connection, String, select

from services.county.projections import orgs
from services.county.reference.register import registered
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.catalog.status import STATUSES
from shared.envelope import format_time
from shared.errors import FieldError

UNREGISTERED = "-"
"""The filter value that selects the "(未登记)" group: a branch or township not (yet) in `orgs`.

Org ids are slugs, which never start with `-`, so the value cannot clash with a real id."""
UNREGISTERED_NAME = "(未登记)"
NONE_NAME = "(无)"
"""The name of a group whose key is absent (a fact's org has no outstation mode or township)."""


class NotFoundError(FieldError):
    """The thing a path or filter names does not exist; becomes a 404 naming the field."""


def by_status(counts: dict[str, int] | None = None) -> dict[str, int]:
    """A count for every status, zeros included, in a stable order."""
    counts = counts or {}
    return {s: counts.get(s, 0) for s in STATUSES}


def binary(conn: Connection, col: Column[Any]) -> Any:
    """Order text by code point on every database, as SQLite does (PostgreSQL's collation differs)."""
    if conn.dialect.name == "postgresql" and isinstance(col.type, String):
        return col.collate("C")
    return col


def china_today() -> date:
    return datetime.now(CHINA_STANDARD_TIME).date()


def start_of_china_day(day: date) -> str:
    """The canonical UTC text of 00:00 China Standard Time on `day` (times compare as text)."""
    return format_time(datetime.combine(day, time.min, CHINA_STANDARD_TIME))


def seconds_between(later: str | None, earlier: str | None) -> int | None:
    if later is None or earlier is None:
        return None
    return int((datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds())


def now_text() -> str:
    return format_time(datetime.now(UTC))


def days_before(day: date, days: int) -> date:
    return day - timedelta(days=days)


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """One page of an already complete, ordered list."""
    return {"total": len(items), "limit": limit, "offset": offset, "items": items[offset : offset + limit]}


@dataclass
class OrgTree:
    """Every registered organisation, with each one's township ancestor worked out once."""

    orgs: dict[str, dict[str, Any]]
    townships: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.townships = {org_id: self._walk(org_id) for org_id in self.orgs}

    def _walk(self, org_id: str) -> str | None:
        seen: set[str] = set()
        current: str | None = org_id
        while current is not None and current in self.orgs and current not in seen:
            if self.orgs[current]["kind"] == "township_committee":
                return current
            seen.add(current)
            current = self.orgs[current]["parent_id"]
        return None

    def township_of(self, org_id: str | None) -> str | None:
        """The township committee at or above `org_id` (None: unregistered, or above townships)."""
        return self.townships.get(org_id) if org_id is not None else None

    def name(self, org_id: str | None, missing: str = UNREGISTERED_NAME) -> str:
        if org_id is None or org_id not in self.orgs:
            return missing
        return str(self.orgs[org_id]["name"])

    def mode(self, org_id: str | None) -> str | None:
        row = self.orgs.get(org_id) if org_id is not None else None
        return row["mode"] if row else None

    def of_kind(self, kind: str) -> list[str]:
        return sorted(o for o, row in self.orgs.items() if row["kind"] == kind)

    def place(self, home_branch: str) -> tuple[str | None, str | None]:
        """(village, township) of a member's home branch; None where not (yet) registered."""
        if home_branch not in self.orgs:
            return None, None
        return home_branch, self.township_of(home_branch)

    def branches_in(self, township: str) -> list[str]:
        """Registered orgs whose township is `township` (or, for `-`, which have none)."""
        wanted = None if township == UNREGISTERED else township
        return sorted(o for o, tw in self.townships.items() if tw == wanted)

    def county(self) -> tuple[str | None, str]:
        found = self.of_kind("county_committee")
        return (found[0], self.name(found[0])) if found else (None, UNREGISTERED_NAME)

    def check(self, org_id: str, field: str, kind: str | None = None) -> None:
        """Refuse an org filter that names nothing registered (404) or the wrong kind (422)."""
        if org_id == UNREGISTERED:
            return
        if org_id not in self.orgs:
            raise NotFoundError(field, f"no registered organisation {org_id!r}")
        if kind is not None and self.orgs[org_id]["kind"] != kind:
            raise FieldError(field, f"{org_id!r} is a {self.orgs[org_id]['kind']}, not a {kind}")


def load_tree(conn: Connection) -> OrgTree:
    """The tree the events registered (`orgs`), and beneath it the county's loaded register
    (`reference`) for every organisation no event has registered yet."""
    cols = (orgs.orgs.c.org_id, orgs.orgs.c.name, orgs.orgs.c.kind, orgs.orgs.c.parent_id, orgs.orgs.c.mode)
    rows = conn.execute(select(*cols, orgs.orgs.c.host_location)).mappings()
    found = {r["org_id"]: dict(r) for r in rows}
    for org_id, row in registered(conn).items():
        if org_id not in found:
            found[org_id] = {k: row[k] for k in ("name", "kind", "parent_id", "mode", "host_location")}
            found[org_id]["org_id"] = org_id
    return OrgTree(found)


def sort_key(value: str | None) -> tuple[bool, str]:
    """Order by value with the None group last."""
    return (value is None, value or "")


def conflict_row(row: Any) -> dict[str, Any]:
    """A conflict as the API shows it: its detail parsed, its events as `node:seq` references."""
    return {
        "conflict_id": row["conflict_id"],
        "kind": row["kind"],
        "subject": row["subject"],
        "detail": json.loads(row["detail"]),
        "events": [e for e in str(row["events"]).split(",") if e],
    }


def ping(conn: Connection) -> None:
    """Ask the database something trivial (/health): raises SQLAlchemyError if it does not answer."""
    conn.execute(select(1))
