"""The county's key store, identity index and reveals log (migration 0009).

`member_keys` holds each member key wrapped (nacl SecretBox) under the county's master key, which
is kept in a file outside the database (`master.py`): a copy of the database alone opens nothing.
`identity_index` holds, per member, a keyed digest of the ID number (`shared.personal.
identity_digest` under a key derived from the master key) so that two registrations of one
person at two nodes are found; `reveals` records every reveal of a member's data.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from services.county.db.tables import metadata

member_keys = Table(
    "member_keys",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("key_id", String(32), primary_key=True),
    Column("node_id", String(64), nullable=False),
    Column("wrapped", Text, nullable=False),
    Column("received_at", String(32), nullable=False),
)
"""A member key as a node delivered it: `wrapped` is base64 of SecretBox(key) under the master
key's wrapping key, the member and key ids bound into the box's plaintext."""

identity_index = Table(
    "identity_index",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("node_id", String(64), nullable=False),
    Column("indexed_at", String(32), nullable=False),
    Index("ix_identity_index_digest", "digest"),
)
"""Each member's ID number as a keyed digest, from the personal the roster holds (sealed under
`key_id`); outside the projections and their digest."""

erased_members = Table(
    "erased_members",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("erased_at", String(32), nullable=False),
)
"""Members erased by the county (`member.erased`, admitted): their keys and identity index entry
are destroyed, no key of theirs is stored again, and every view shows them as `[已删除]`."""

reveals = Table(
    "reveals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("username", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("member_id", String(32)),
    Column("scope", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_reveals_member", "member_id"),
)
"""Every reveal: who (account and role), whom (a member, or NULL for an export of many, `scope`
saying which), when and why."""
