"""The live write: bringing every projection up to date with a batch, inside the ingest transaction.

Every event passes the screen first (`services.county.authority.screen`): what a node was not
entitled to say is archived but not applied, and listed among the refused claims (`claims`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import Connection, Table, select

from services.county.authority import speakers as enrolled
from services.county.authority.corrections import is_correction
from services.county.authority.screen import Speakers, screen_entity, screen_events
from services.county.db import tables as t
from services.county.db.bulk import insert_all
from services.county.projections import claims, corrections, roster
from services.county.projections.corrected_timeline import spliced
from services.county.projections.fact import MEMBER, Fact, entity_key, fact_from_archive, split_entity
from services.county.projections.projection import Row
from services.county.projections.registry import FOLD_PROJECTIONS, HISTORY, KIND_OF_TYPE, OF_KIND

CHUNK = 500


def project(
    conn: Connection, facts: Sequence[Fact], entities: Iterable[str], loose: Sequence[Fact] = ()
) -> None:
    """Bring every projection up to date with newly archived `facts` about `entities` (same
    transaction): each fold projection writes the events it claims that pass the screen, the
    corrections of events about no entity among them (`loose`) are applied, and every entity
    touched is derived again from all of its events (screened together)."""
    speakers = enrolled.load(conn)
    about_none = [f for f in facts if f.type not in KIND_OF_TYPE and not is_correction(f)]
    screened = fold(conn, about_none, speakers)
    for p in FOLD_PROJECTIONS:
        claimed = [f for f in screened if f.type in p.claims]
        if claimed:
            p.live(conn, claimed)
    corrections.apply(conn, loose, speakers)
    rederive(conn, sorted(set(entities)), known=facts, speakers=speakers)


def fold(conn: Connection, facts: Sequence[Fact], speakers: Speakers) -> list[Fact]:
    """Screen events about no entity: list the refused claims, return the events to fold."""
    screened = screen_events(facts, speakers)
    claims.write(conn, claims.rows(screened.refused))
    return screened.admitted


def rederive(
    conn: Connection, entities: Sequence[str], known: Sequence[Fact] = (), speakers: Speakers | None = None
) -> None:
    """Re-derive the entities named by these keys from all of their archived events.

    `known`: events of this transaction, already decoded; only older events are read back and
    decoded (a new member's registration needs no read at all). `speakers`: who each node is
    (default: read from `conn`).
    """
    speakers = speakers if speakers is not None else enrolled.load(conn)
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
        write_entities(
            conn,
            {e: grouped.get(e, []) for e in chunk},
            speakers,
            replace={e for e in chunk if e in older},
        )


def write_entities(
    conn: Connection,
    by_entity: dict[str, list[Fact]],
    speakers: Speakers,
    replace: Collection[str] | None = None,
) -> None:
    """Replace the rows of these entities with freshly derived ones, in every entity projection of
    their kind and among the refused claims; only the rows of the entities in `replace` (default:
    all) are deleted first, the others have none. Each entity's events are screened together, and
    its shared history (`registry.HISTORY`) is derived once, from those admitted."""
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
            claims.forget(conn, [entity_key(kind, i) for i in old])
        rows: dict[Table, list[Row]] = defaultdict(list)
        refused: list[Row] = []
        for entity_id, facts in group.items():
            screened = screen_entity(kind, entity_id, facts, speakers)
            refused += claims.rows(screened.refused, entity_key(kind, entity_id))
            derived = derive_entity(kind, entity_id, screened.admitted)
            if kind == MEMBER and roster.member_timeline in derived:
                timeline = derived[roster.member_timeline]
                derived[roster.member_timeline] = spliced(entity_id, facts, speakers, timeline)
            for table, found in derived.items():
                rows[table] += found
        for p in projections:
            for table in p.tables:
                insert_all(conn, table, rows.get(table, []))
        claims.write(conn, refused)


def derive_entity(kind: str, entity_id: str, facts: Sequence[Fact]) -> dict[Table, list[Row]]:
    """The rows of one entity in every entity projection of its kind (pure: no database), from
    the events the screen admitted."""
    history = HISTORY.get(kind)
    state = history(entity_id, facts) if history is not None else None
    rows: dict[Table, list[Row]] = {}
    for p in OF_KIND[kind]:
        rows.update(p.rows(entity_id, facts, state))
    return rows
