"""node_keys keyed by (node_id, key_id)

A key row belongs to its node: keyed by `key_id` alone, a `node.key_rotated` of one node naming
another node's key overwrote the other node's row (issue 13). Ingest now refuses a rotation to a
key that any node holds (`key_taken`), and the table's key includes the node, so no write of one
node can land on another's row. Rows are copied as they are.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = "key_id, node_id, public_key, valid_from, valid_to, valid_from_seq, valid_to_seq"


def _rebuild(*primary_key: str) -> None:
    """The table made again with another primary key (portable: SQLite cannot alter one)."""
    op.create_table(
        "node_keys_new",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.String(length=32), nullable=False),
        sa.Column("valid_to", sa.String(length=32), nullable=True),
        sa.Column("valid_from_seq", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("valid_to_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(*primary_key, name=f"pk_node_keys_{len(primary_key)}"),
    )
    op.execute(f"INSERT INTO node_keys_new ({_COLUMNS}) SELECT {_COLUMNS} FROM node_keys")
    op.drop_index("ix_node_keys_node_id", "node_keys")
    op.drop_table("node_keys")
    op.rename_table("node_keys_new", "node_keys")
    op.create_index("ix_node_keys_node_id", "node_keys", ["node_id"], unique=False)


def upgrade() -> None:
    _rebuild("node_id", "key_id")


def downgrade() -> None:
    _rebuild("key_id")
