"""facts: versions of corrected events (`record.corrected`, `record.voided`)

A corrected event keeps its original row in `facts`, now valid until the correction's business
time (`valid_to`), and gains a row per standing correction, under the correction's seq, with
`version_of` the original's seq, valid from the correction's business time (`valid_from`).
Existing rows are originals in effect: all three columns NULL, so nothing is rewritten (on
SQLite `add_column` needs no copy of the table).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("facts", sa.Column("version_of", sa.BigInteger))
    op.add_column("facts", sa.Column("valid_from", sa.String(32)))
    op.add_column("facts", sa.Column("valid_to", sa.String(32)))
    op.create_index("ix_facts_version", "facts", ["node_id", "version_of"])


def downgrade() -> None:
    op.drop_index("ix_facts_version", "facts")
    with op.batch_alter_table("facts") as batch:
        batch.drop_column("valid_to")
        batch.drop_column("valid_from")
        batch.drop_column("version_of")
