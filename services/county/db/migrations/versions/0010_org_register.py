"""org register: the county's organisation tree as `tongxin county load-orgs` loads it

Issue 16: a new county has no `org.registered` events yet and showed "(未登记)" everywhere; the
county office loads its tree (townships, villages, outstations with their node, host
organisations) from an .xlsx into `org_register`, reference data the queries fall back on for
names and that the county hands to its nodes (their pickers).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_register",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent_id", sa.String(64)),
        sa.Column("node_id", sa.String(64)),
        sa.Column("host_location", sa.Text),
        sa.Column("mode", sa.String(32)),
        sa.Column("loaded_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_org_register_node", "org_register", ["node_id"])


def downgrade() -> None:
    op.drop_index("ix_org_register_node", table_name="org_register")
    op.drop_table("org_register")
