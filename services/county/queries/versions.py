"""Which `facts` rows are in effect — now, or as of a business time D — and the records they stand for.

A corrected event has a row per version (`projections/figures.py`): now, the rows with no
`valid_to`; as of D, those valid at D (`valid_from` NULL or <= D, `valid_to` NULL or > D), so
`as_of` before a correction shows the original. A version's record is the correction's
replacement, placed where the original stood (its business time): `records` reads either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from services.county.db import tables as t
from services.county.projections import figures
from services.county.projections.fact import Fact, fact_from_archive
from shared.catalog.correction import RecordCorrected

CHUNK = 500


def in_effect(moment: str | None = None) -> ColumnElement[bool]:
    """The `facts` rows in effect now (`moment` None) or at `moment` (canonical UTC text)."""
    fc = figures.facts.c
    if moment is None:
        return fc.valid_to.is_(None)
    return and_(
        or_(fc.valid_from.is_(None), fc.valid_from <= moment),
        or_(fc.valid_to.is_(None), fc.valid_to > moment),
    )


def records(conn: Connection, rows: Sequence[tuple[str, int, int | None]]) -> list[Fact]:
    """The records of `facts` rows given as (node_id, seq, version_of): the archived event, or for
    a correction's version its replacement at the original's node, seq and business time."""
    a = t.archive.c
    wanted: dict[str, set[int]] = defaultdict(set)
    for node_id, seq, version_of in rows:
        wanted[node_id].add(seq)
        if version_of is not None:
            wanted[node_id].add(version_of)
    found: dict[tuple[str, int], Fact] = {}
    for node_id, seqs in wanted.items():
        ordered = sorted(seqs)
        for i in range(0, len(ordered), CHUNK):
            query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope).where(
                a.node_id == node_id, a.seq.in_(ordered[i : i + CHUNK])
            )
            for row in conn.execute(query):
                found[(row.node_id, row.seq)] = fact_from_archive(*row)
    out = []
    for node_id, seq, version_of in rows:
        fact = found[(node_id, seq)]
        if version_of is not None and isinstance(fact.body, RecordCorrected):
            original = found[(node_id, version_of)]
            fact = Fact(node_id, version_of, original.occurred_at, original.type, fact.body.replacement)
        out.append(fact)
    return out
