"""The county's identity index: one keyed digest of each member's ID number, so that one person
registered at two nodes (two random member ids) is still found and listed as a conflict.

A member is indexed once both are here, in whichever order they arrive: their key (the key
responder indexes at once) and the sealed personal the roster holds (`sweep`, run by `county
serve` every few seconds, catches the registrations that came after the key). The index is
outside the projections and their digest; the conflicts it gives are listed beside theirs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, or_, select

from services.county.personal.store import KeyStore
from services.county.personal.tables import identity_index, member_keys
from services.county.projections import roster
from shared.catalog.base import Personal
from shared.envelope import format_time
from shared.personal import SealError, identity_digest, unseal

KIND = "same_id_number"


def index_members(conn: Connection, store: KeyStore, member_ids: Sequence[str] | None = None) -> int:
    """Index these members (None: every member the roster holds sealed and the index lacks or
    holds under another key); returns how many were (re)indexed."""
    m, ix, k = roster.members.c, identity_index.c, member_keys.c
    query = (
        select(m.member_id, m.personal, m.registered_by, ix.key_id)
        .join(member_keys, k.member_id == m.member_id)  # only those whose key is here
        .join(identity_index, ix.member_id == m.member_id, isouter=True)
        .where(m.personal.is_not(None), m.personal.contains(k.key_id))
        .where(or_(ix.key_id.is_(None), ~m.personal.contains(ix.key_id)))
        .distinct()
    )
    if member_ids is not None:
        query = query.where(m.member_id.in_(list(member_ids)))
    rows = conn.execute(query).all()
    todo: list[tuple[str, Personal, str]] = []
    for member_id, text, node_id, indexed_key in rows:
        personal = msgspec.json.decode(text, type=Personal)
        if personal.sealed is not None and personal.sealed.key_id != indexed_key:
            todo.append((member_id, personal, node_id))
    keys = store.many(conn, [(mid, p.sealed.key_id) for mid, p, _ in todo if p.sealed is not None])
    done = 0
    now = format_time(datetime.now(UTC))
    for member_id, personal, node_id in todo:
        assert personal.sealed is not None
        key = keys.get((member_id, personal.sealed.key_id))
        if key is None:
            continue
        try:
            id_number = unseal(personal, key, member_id).id_number
        except SealError:
            continue
        if id_number is None:
            continue
        digest = identity_digest(store.master.index_key, id_number)
        conn.execute(delete(identity_index).where(ix.member_id == member_id))
        conn.execute(
            identity_index.insert().values(
                member_id=member_id,
                key_id=personal.sealed.key_id,
                digest=digest,
                node_id=node_id,
                indexed_at=now,
            )
        )
        done += 1
    return done


def conflicts(conn: Connection) -> list[dict[str, Any]]:
    """One conflict per ID number held by two or more members: the members and the nodes that
    registered them (no ID number, not even a digest, is shown)."""
    ix = identity_index.c
    shared = select(ix.digest).group_by(ix.digest).having(func.count() > 1).order_by(ix.digest).subquery()
    rows = conn.execute(
        select(ix.digest, ix.member_id, ix.node_id)
        .where(ix.digest.in_(select(shared.c.digest)))
        .order_by(ix.digest, ix.member_id)
    ).all()
    groups: dict[str, list[tuple[str, str]]] = {}
    for digest, member_id, node_id in rows:
        groups.setdefault(digest, []).append((member_id, node_id))
    out = []
    for digest, members in groups.items():
        member_ids = [mid for mid, _ in members]
        conflict_id = hashlib.sha256(("same_id_number\0" + digest).encode()).hexdigest()[:32]
        out.append(
            {
                "conflict_id": conflict_id,
                "kind": KIND,
                "subject": "m:" + member_ids[0],
                "detail": {"member_ids": member_ids, "nodes": sorted({n for _, n in members})},
                "events": [],
            }
        )
    return sorted(out, key=lambda c: (c["subject"], c["conflict_id"]))
