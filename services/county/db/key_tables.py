"""The tables of the key lifecycle: revocations of node keys with what they took out of the
archive, and the county's own key handovers (docs/operations.md, "Key lifecycle").

A revocation moves a node's archived envelopes (and the county's receipts for them) from its
`from_seq` on into `revoked_archive` and `revoked_receipts`, byte for byte: they leave the
chain, the projections and the digest, and stay for an auditor beside the revocation that took
them out. `county_key_handovers` holds each signed statement by which a new county receipt key
took over from the one before (`shared/county_key.py`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from services.county.db.tables import metadata

key_revocations = Table(
    "key_revocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(64), nullable=False),
    Column("from_seq", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("revoked_at", String(32), nullable=False),
    Column("key_ids", Text, nullable=False),
    Column("head_seq", BigInteger, nullable=False),
    Column("envelopes", Integer, nullable=False),
    Column("receipts", Integer, nullable=False),
    Column("held", Integer, nullable=False),
    Column("new_key_id", String(16)),
    Column("reenrolled_at", String(32)),
    Index("ix_key_revocations_node", "node_id"),
)
"""Each revocation: the node, the first seq its revoked keys (`key_ids`, comma-separated) no
longer sign, why, the archived head it cut (`head_seq`), how many envelopes, receipts and held
envelopes it took out, and the key re-enrolled from `from_seq` on, once there is one."""

revoked_archive = Table(
    "revoked_archive",
    metadata,
    Column("revocation_id", Integer, primary_key=True, autoincrement=False),
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema", Integer, nullable=False),
    Column("subject", String(80)),
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("envelope", Text, nullable=False),
)
"""Archived envelopes a revocation took out of the archive, as they were archived."""

revoked_receipts = Table(
    "revoked_receipts",
    metadata,
    Column("revocation_id", Integer, primary_key=True, autoincrement=False),
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("sig", String(128), nullable=False),
)
"""The county's receipts for the envelopes a revocation took out (they acknowledged those)."""

county_key_handovers = Table(
    "county_key_handovers",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("prev_key_id", String(16), nullable=False),
    Column("made_at", String(32), nullable=False),
    Column("overlap_until", String(32), nullable=False),
    Column("statement", Text, nullable=False),
)
"""Each county key's handover statement (its wire form), by the key that took over."""
