"""repair: the ingest position, the county's re-send requests, quarantine keyed by content

`ingest_position` holds the highest stream seq whose message a committed batch handled, so a
consumer that was deleted, or a database restored from a backup, resumes from what the archive
holds instead of from zero or from the consumer's later ack floor. `repairs` records each gap
the county asked a node to re-send. `quarantine.digest` (SHA-256 of subject and bytes) keys
quarantine by content: a redelivered bad message adds no second row. Rows quarantined before
this revision keep a NULL digest except the first of each identical group.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_position",
        sa.Column("stream", sa.String(64), primary_key=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "repairs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("from_seq", sa.BigInteger, nullable=False),
        sa.Column("to_seq", sa.BigInteger, nullable=False),
        sa.Column("found_at", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.String(32)),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("resolved_at", sa.String(32)),
    )
    op.create_index("ix_repairs_open", "repairs", ["node_id", "resolved_at"])
    op.add_column("quarantine", sa.Column("digest", sa.String(64)))
    conn = op.get_bind()
    seen: set[str] = set()
    rows = conn.execute(sa.text("SELECT id, nats_subject, raw FROM quarantine ORDER BY id")).all()
    for row_id, subject, raw in rows:
        digest = content_digest(subject, bytes(raw))
        if digest in seen:
            continue
        seen.add(digest)
        conn.execute(sa.text("UPDATE quarantine SET digest = :d WHERE id = :i"), {"d": digest, "i": row_id})
    op.create_index("ux_quarantine_digest", "quarantine", ["digest"], unique=True)


def content_digest(subject: str, raw: bytes) -> str:
    """As `services.county.ingest.quarantine.digest_of` (a migration does not import the app)."""
    return hashlib.sha256(subject.encode() + b"\0" + raw).hexdigest()


def downgrade() -> None:
    op.drop_index("ux_quarantine_digest", "quarantine")
    with op.batch_alter_table("quarantine") as batch_op:
        batch_op.drop_column("digest")
    op.drop_index("ix_repairs_open", "repairs")
    op.drop_table("repairs")
    op.drop_table("ingest_position")
