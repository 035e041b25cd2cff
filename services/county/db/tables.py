"""The archive's tables (SQLAlchemy Core) and the county's one MetaData; each projection's tables
live in its own module (`services/county/projections/`). Alembic migrations create them all;
nothing else does.

Times are text in the envelope's canonical form (`2026-11-27T01:25:05.000000Z`) and dates
`YYYY-MM-DD`, so that rows — and the projection digest — are identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# --- ingest: the registry of node keys, the archive, held-back envelopes, quarantine ---------

nodes = Table(
    "nodes",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("enrolled_at", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("org_ids", Text),
    Column("office", Boolean),
    Column("slot", Integer, nullable=False),
    Index("ux_nodes_slot", "slot", unique=True),
)
"""The enrolled nodes. `org_ids` (a JSON array of organisation ids) and `office` say whom the node
speaks for (`services.county.authority`), fixed at enrolment; both NULL for a node enrolled before
they existed, which speaks for the organisation of its own id until they are declared once.
`slot` is the node's place in the order of enrolment (0, 1, 2 …): its ingest worker's
(`ingest/partitions.py`)."""

node_keys = Table(
    "node_keys",
    metadata,
    Column("node_id", String(64), primary_key=True, index=True),
    Column("key_id", String(16), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("valid_from", String(32), nullable=False),
    Column("valid_to", String(32)),
    Column("valid_from_seq", BigInteger, nullable=False, server_default="1"),
    Column("valid_to_seq", BigInteger),
    Column("revoked_from_seq", BigInteger),
    Column("revocation_id", Integer),
)
"""A node's keys: the one enrolled first, then each named by a `node.key_rotated` in its chain,
valid for the seqs [valid_from_seq, valid_to_seq] — and, once revoked (`key_revocations`), only
below `revoked_from_seq`; a key re-enrolled after a revocation signs from its `valid_from_seq`.
Keyed by node and key: no write of one node's can land on another's row; ingest refuses a
rotation to a key any node holds (`key_taken`)."""

receipts = Table(
    "receipts",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("sig", String(128), nullable=False),
)
"""Every receipt the county signed: its word that a node's chain is archived up to (seq, hash)."""

archive = Table(
    "archive",
    metadata,
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
    Index("ix_archive_subject", "subject"),
    Index("ix_archive_received", "received_at"),
)
"""Every verified envelope, forever: the county's system of record."""

node_heads = Table(
    "node_heads",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Column("last_recorded_at", String(32), nullable=False),
    Column("max_skew_s", BigInteger, nullable=False, default=0),
)
"""Where each node's chain stands in the archive (its next expected seq is last_seq + 1)."""

held = Table(
    "held",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("received_at", String(32), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)
"""Verified envelopes that arrived ahead of a gap; projected once the gap fills."""

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", String(32), nullable=False),
    Column("nats_subject", String(200), nullable=False),
    Column("node_id", String(64)),
    Column("seq", BigInteger),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("resolved_at", String(32)),
    Column("digest", String(64)),
    Index("ix_quarantine_open", "resolved_at"),
    Index("ux_quarantine_digest", "digest", unique=True),
)
"""Messages refused at ingest, with the reason; `digest` (SHA-256 of subject and bytes) keys them
by content, so a redelivered bad message is kept once."""

# --- repair: where ingest stands in the stream, the gaps the county asked nodes to re-send -----

ingest_position = Table(
    "ingest_position",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("stream_seq", BigInteger, nullable=False),
    Column("updated_at", String(32), nullable=False),
)
"""The highest stream seq a committed batch handled: a recreated consumer resumes after it."""

repairs = Table(
    "repairs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(64), nullable=False),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("found_at", String(32), nullable=False),
    Column("requested_at", String(32)),
    Column("requests", Integer, nullable=False, server_default="0"),
    Column("resolved_at", String(32)),
    Index("ix_repairs_open", "node_id", "resolved_at"),
)
"""Each gap the county held in a node's chain past the grace period, and its re-send requests."""
