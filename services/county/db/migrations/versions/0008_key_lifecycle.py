"""key lifecycle: node key revocations, the revoked envelopes and receipts, county key handovers

Issue 14 (a leaked node key was a permanent takeover): `key_revocations` records each revocation
of a node's keys from a seq on; `revoked_archive` and `revoked_receipts` keep, byte for byte, what
it took out of `archive` and `receipts`; `node_keys` gains `revoked_from_seq` and `revocation_id`.
`county_key_handovers` holds the signed statements by which a new county receipt key took over.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_revocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("from_seq", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=False),
        sa.Column("key_ids", sa.Text, nullable=False),
        sa.Column("head_seq", sa.BigInteger, nullable=False),
        sa.Column("envelopes", sa.Integer, nullable=False),
        sa.Column("receipts", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("new_key_id", sa.String(16)),
        sa.Column("reenrolled_at", sa.String(32)),
    )
    op.create_index("ix_key_revocations_node", "key_revocations", ["node_id"])
    op.create_table(
        "revoked_archive",
        sa.Column("revocation_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("schema", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(80)),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
    )
    op.create_table(
        "revoked_receipts",
        sa.Column("revocation_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("sig", sa.String(128), nullable=False),
    )
    op.create_table(
        "county_key_handovers",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("prev_key_id", sa.String(16), nullable=False),
        sa.Column("made_at", sa.String(32), nullable=False),
        sa.Column("overlap_until", sa.String(32), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
    )
    with op.batch_alter_table("node_keys") as batch:
        batch.add_column(sa.Column("revoked_from_seq", sa.BigInteger))
        batch.add_column(sa.Column("revocation_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("node_keys") as batch:
        batch.drop_column("revocation_id")
        batch.drop_column("revoked_from_seq")
    op.drop_table("county_key_handovers")
    op.drop_table("revoked_receipts")
    op.drop_table("revoked_archive")
    op.drop_index("ix_key_revocations_node", "key_revocations")
    op.drop_table("key_revocations")
