"""whom a node speaks for; refused claims

Issue 14: the county now checks what a node may say (docs/authority.md). `nodes` records whom each
node speaks for (`org_ids`, `office`), fixed at enrolment; rows enrolled before stay NULL and speak
for the organisation of their own id until `enrol-node … --org … [--office]` declares it, once.
`refused_claims` lists the archived events the screen does not apply. The projections of an
existing archive are decided by the rule on the next `tongxin county rebuild` (docs/authority.md §5).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_ids", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("office", sa.Boolean(), nullable=True))
    op.create_table(
        "refused_claims",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=True),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", "seq"),
    )
    with op.batch_alter_table("refused_claims", schema=None) as batch_op:
        batch_op.create_index("ix_refused_claims_subject", ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refused_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_refused_claims_subject")
    op.drop_table("refused_claims")
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_column("office")
        batch_op.drop_column("org_ids")
