"""The accounts' tables: one row per account, one per live session or bearer token.

Only digests of tokens are stored (`shared.credentials.token_digest`), and Argon2id hashes of
passwords: a copy of the database lets nobody sign in.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table

from services.county.db.tables import metadata

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("township", String(64), nullable=True),
    Column("password_hash", String(256), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    Column("changed_at", String(32), nullable=False),
)

account_tokens = Table(
    "account_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("accounts.username"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("label", String(64), nullable=False, default=""),
    Column("csrf_digest", String(64), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("last_used_at", String(32), nullable=False),
    Index("ix_account_tokens_username", "username"),
)
