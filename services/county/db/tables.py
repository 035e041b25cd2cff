"""The county's tables (SQLAlchemy Core). Alembic migrations create them; nothing else does.

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
)

node_keys = Table(
    "node_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("node_id", String(64), nullable=False, index=True),
    Column("public_key", String(64), nullable=False),
    Column("valid_from", String(32), nullable=False),
    Column("valid_to", String(32)),
    Column("valid_from_seq", BigInteger, nullable=False, server_default="1"),
    Column("valid_to_seq", BigInteger),
)
"""A node's keys: the one enrolled first, then each named by a `node.key_rotated` in its chain,
valid for the seqs [valid_from_seq, valid_to_seq]."""

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
    Index("ix_quarantine_open", "resolved_at"),
)

# --- business projections (covered by the digest) ---------------------------------------

orgs = Table(
    "orgs",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("parent_id", String(64)),
    Column("host_location", Text),
    Column("mode", String(32)),
    Column("secretary", Text),
    Column("liaison_leader", Text),
    Column("liaison_office", Text),
    Column("venues", Integer, nullable=False, default=0),
    Column("teaching_sites", Integer, nullable=False, default=0),
)

members = Table(
    "members",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("home_branch", String(64), nullable=False),
    Column("outstation", String(64)),
    Column("host_location", Text),
    Column("host_org", String(64)),
    Column("occupation", Text),
    Column("status", String(20), nullable=False),
    Column("status_since", String(32), nullable=False),
    Column("flowed_out_on", String(10), nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", String(32), nullable=False),
    Column("study_account", Boolean, nullable=False, default=False),
    Index("ix_members_branch", "home_branch", "status"),
    Index("ix_members_outstation", "outstation"),
)

member_timeline = Table(
    "member_timeline",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("valid_from", String(32), primary_key=True),
    Column("valid_to", String(32)),
    Column("name", Text, nullable=False),
    Column("home_branch", String(64), nullable=False),
    Column("outstation", String(64)),
    Column("host_location", Text),
    Column("host_org", String(64)),
    Column("status", String(20), nullable=False),
    Column("cross_posts", Text, nullable=False, default="[]"),
    Index("ix_member_timeline_valid", "valid_from", "valid_to"),
)
"""Each member's state over business time: the row valid at D has valid_from <= D < valid_to
(valid_to NULL: still valid). The roster and dual management `as_of` D read it."""

co_managers = Table(
    "co_managers",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("org_id", String(64), primary_key=True),
    Column("role", String(20), primary_key=True),
    Column("post", Text, nullable=False, default=""),
    Index("ix_co_managers_org", "org_id"),
)
"""一方隶属、多方管理: every organisation besides the home branch that co-manages a member."""

recruitment = Table(
    "recruitment",
    metadata,
    Column("candidate_id", String(32), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("outstation_decision", String(10)),
    Column("home_decision", String(10)),
    Column("last_reviewed_at", String(32), nullable=False),
)

activity = Table(
    "activity",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("last_orglife_at", String(32)),
    Column("last_trained_at", String(32)),
)
"""The latest organisational life and training each member attended (max: order-free)."""

trained = Table(
    "trained",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
)

facts = Table(
    "facts",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("category", String(32), nullable=False, default=""),
    Column("occurred_on", String(10), nullable=False),
    Column("amount_fen", BigInteger, nullable=False, default=0),
    Column("people", BigInteger, nullable=False, default=0),
    Index("ix_facts_type_org", "type", "org_id"),
)
"""One row per pioneer, fund, education, chamber or mechanism event: the figures' raw material."""

conflicts = Table(
    "conflicts",
    metadata,
    Column("conflict_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(80), nullable=False, index=True),
    Column("detail", Text, nullable=False),
    Column("events", Text, nullable=False),
)

BUSINESS_TABLES = (
    orgs,
    members,
    member_timeline,
    co_managers,
    recruitment,
    activity,
    trained,
    facts,
    conflicts,
)
"""What the projection digest covers; what describes arrival (health, quarantine) is left out."""
