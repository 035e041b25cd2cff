"""A member's timeline across corrections: as of D, each correction counts from its own business time.

A member's timeline (`roster.member_timeline`) says their state at every business time D. A
correction decided at M changes the member's record from M on, not before (`as_of` before it shows
the original): so the timeline is spliced from the derivations with the corrections in force in
each stretch between correction times — before the first, the member derived without any; from
each correction time on, with every correction that occurred by then. Each stretch's rows are
exactly those a derivation from the events that occurred by a D in it gives (the `as_of`
re-derivation, `queries/asof.py`), so the as-of digest still equals a rebuild up to D.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.county.authority.corrections import is_correction
from services.county.authority.screen import Speakers, screen_entity
from services.county.projections.fact import MEMBER, Fact
from services.county.projections.roster import VERSIONED, history

Row = dict[str, Any]


def spliced(member_id: str, facts: Sequence[Fact], speakers: Speakers, timeline: list[Row]) -> list[Row]:
    """The member's timeline across the corrections among `facts` (every event about them);
    `timeline`: the one derived with all of them in force (returned as it is without any)."""
    moments = sorted({f.occurred_at for f in facts if is_correction(f)})
    if not moments:
        return timeline
    rows: list[Row] = []
    starts: list[str | None] = [None, *moments]
    for start, end in zip(starts, [*moments, None], strict=True):
        if end is None:
            found = timeline
        else:
            before = [f for f in facts if not (is_correction(f) and f.occurred_at >= end)]
            derived = history(member_id, screen_entity(MEMBER, member_id, before, speakers).admitted)
            found = derived.timeline if derived is not None else []
        rows += _clip(found, start, end)
    return _merge(rows)


def _clip(rows: list[Row], start: str | None, end: str | None) -> list[Row]:
    """The parts of timeline rows within [start, end) (None: unbounded)."""
    out = []
    for row in rows:
        valid_from = row["valid_from"] if start is None else max(row["valid_from"], start)
        ends = [t for t in (row["valid_to"], end) if t is not None]
        valid_to = min(ends) if ends else None
        if valid_to is None or valid_from < valid_to:
            out.append({**row, "valid_from": valid_from, "valid_to": valid_to})
    return out


def _merge(rows: list[Row]) -> list[Row]:
    """Adjacent rows of the same state joined, as one derivation would have written them."""
    out: list[Row] = []
    for row in rows:
        last = out[-1] if out else None
        same = last is not None and all(last[k] == row[k] for k in (*VERSIONED, "cross_posts"))
        if last is not None and same and last["valid_to"] == row["valid_from"]:
            last["valid_to"] = row["valid_to"]
        else:
            out.append(dict(row))
    return out
