"""The county's register of its organisation tree, as `tongxin county load-orgs` loads it.

Reference data, not a projection: it holds what the county office says its organisations are
called, where no node's `org.registered` has said it (a new county), and what each outstation's
node is. It is not in the business digest (guarantee 5 covers what the archive rebuilds; this
table is loaded, not rebuilt) and is kept across `county rebuild`.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from services.county.db.tables import metadata

org_register = Table(
    "org_register",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_id", String(64)),
    Column("node_id", String(64)),
    Column("host_location", Text),
    Column("mode", String(32)),
    Column("loaded_at", String(32), nullable=False),
    Index("ix_org_register_node", "node_id"),
)
"""One row per organisation of the loaded tree; `node_id` is the branch node an outstation runs
(NULL for the other kinds); `loaded_at` when the row last changed."""
