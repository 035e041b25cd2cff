"""What a projection is: its tables, the event types it claims, its live step and its rebuild step.

Two shapes cover every business projection of the county:

- an **entity projection** re-derives its rows of one entity (a member, an organisation, a
  candidate) from all of that entity's events, in business order: live, the entities a batch
  touches are forgotten and derived again; a rebuild derives each entity once;
- a **fold projection** folds each event on its own into order-free rows (one row per event,
  maxima, sets): live, `live` writes a batch's events; a rebuild folds every event into empty
  tables through `start(conn)`.

`registry.PROJECTIONS` lists them; the live write, the rebuild, the digest and the catalog's
coverage test are driven by that list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Table

from services.county.projections.fact import Fact

Row = dict[str, Any]


@dataclass(frozen=True)
class EntityProjection:
    """Rows re-derived per entity of one `kind` (`fact.MEMBER`, `ORG`, `CANDIDATE`)."""

    name: str
    kind: str
    tables: tuple[Table, ...]
    claims: frozenset[str]
    """The event types it derives from: each of them is about an entity of `kind`."""
    rows: Callable[[str, Sequence[Fact], Any], dict[Table, list[Row]]]
    """(entity id, every event about it, the kind's shared history or None) → rows per table."""
    forget: Callable[[Connection, Sequence[str]], None]
    """Delete the rows of these entity ids (before they are derived again)."""


class Fold(Protocol):
    """Folding events into empty tables (a rebuild or a replay): `add` as events are read,
    `finish` once all have been."""

    def add(self, facts: Sequence[Fact]) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class FoldProjection:
    """Rows folded from each event on its own, whatever their order."""

    name: str
    tables: tuple[Table, ...]
    claims: frozenset[str]
    live: Callable[[Connection, Sequence[Fact]], None]
    """Write newly archived events (only those it claims are passed) into the live tables."""
    start: Callable[[Connection], Fold]
    """Begin folding into empty tables."""


Projection = EntityProjection | FoldProjection
