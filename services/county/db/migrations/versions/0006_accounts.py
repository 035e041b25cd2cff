"""accounts and their sessions and bearer tokens

Issue 14: who may use the county service. Accounts have a role (and a township for a township
officer) and an Argon2id password hash; `account_tokens` holds the SHA-256 of each live session
and bearer token, never the token.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("username", sa.String(length=64), primary_key=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.String(length=32), nullable=False),
    )
    op.create_table(
        "account_tokens",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("username", sa.String(length=64), sa.ForeignKey("accounts.username"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("csrf_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("last_used_at", sa.String(length=32), nullable=False),
    )
    op.create_index("ix_account_tokens_username", "account_tokens", ["username"])


def downgrade() -> None:
    op.drop_index("ix_account_tokens_username", "account_tokens")
    op.drop_table("account_tokens")
    op.drop_table("accounts")
