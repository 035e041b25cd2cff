"""The live write: bringing every projection up to date with a batch, inside the ingest transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import Connection, Table, select

from services.county.db import tables as t
from services.county.db.bulk import insert_all
from services.county.projections.fact import Fact, entity_key, fact_from_archive, split_entity
from services.county.projections.projection import Row
from services.county.projections.registry import FOLD_PROJECTIONS, HISTORY, OF_KIND

CHUNK = 500


def project(conn: Connection, facts: Sequence[Fact], entities: Iterable[str]) -> None:
    """Bring every projection up to date with newly archived `facts` about `entities` (same
    transaction): each fold projection writes the events it claims, and every entity touched is
    derived again from all of its events."""
    for p in FOLD_PROJECTIONS:
        claimed = [f for f in facts if f.type in p.claims]
        if claimed:
            p.live(conn, claimed)
    rederive(conn, sorted(set(entities)), known=facts)


def rederive(conn: Connection, entities: Sequence[str], known: Sequence[Fact] = ()) -> None:
    """Re-derive the entities named by these keys from all of their archived events.

    `known`: events of this transaction, already decoded; only older events are read back and
    decoded (a new member's registration needs no read at all).
    """
    by_ref = {(f.node_id, f.seq): f for f in known}
    a = t.archive.c
    for i in range(0, len(entities), CHUNK):
        chunk = entities[i : i + CHUNK]
        grouped: dict[str, list[Fact]] = defaultdict(list)
        older: set[str] = set()
        for entity, node_id, seq in conn.execute(
            select(a.subject, a.node_id, a.seq).where(a.subject.in_(chunk))
        ):
            fact = by_ref.get((node_id, seq))
            if fact is None:
                older.add(entity)
            else:
                grouped[entity].append(fact)
        if older:
            query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope, a.subject)
            for node_id, seq, type_, occurred_at, text, entity in conn.execute(
                query.where(a.subject.in_(older))
            ):
                if (node_id, seq) not in by_ref:
                    grouped[entity].append(fact_from_archive(node_id, seq, type_, occurred_at, text))
        # an entity none of whose events is older than this transaction has no rows yet
        write_entities(conn, {e: grouped.get(e, []) for e in chunk}, replace={e for e in chunk if e in older})


def write_entities(
    conn: Connection, by_entity: dict[str, list[Fact]], replace: Collection[str] | None = None
) -> None:
    """Replace the rows of these entities with freshly derived ones, in every entity projection of
    their kind; only the rows of the entities in `replace` (default: all) are deleted first, the
    others have none. Each entity's shared history (`registry.HISTORY`) is derived once."""
    by_kind: dict[str, dict[str, list[Fact]]] = defaultdict(dict)
    for key, facts in by_entity.items():
        kind, entity_id = split_entity(key)
        by_kind[kind][entity_id] = facts
    for kind, group in by_kind.items():
        projections = OF_KIND[kind]
        old = [i for i in group if replace is None or entity_key(kind, i) in replace]
        if old:
            for p in projections:
                p.forget(conn, old)
        rows: dict[Table, list[Row]] = defaultdict(list)
        for entity_id, facts in group.items():
            for table, found in derive_entity(kind, entity_id, facts).items():
                rows[table] += found
        for p in projections:
            for table in p.tables:
                insert_all(conn, table, rows.get(table, []))


def derive_entity(kind: str, entity_id: str, facts: Sequence[Fact]) -> dict[Table, list[Row]]:
    """The rows of one entity in every entity projection of its kind (pure: no database)."""
    history = HISTORY.get(kind)
    state = history(entity_id, facts) if history is not None else None
    rows: dict[Table, list[Row]] = {}
    for p in OF_KIND[kind]:
        rows.update(p.rows(entity_id, facts, state))
    return rows
