"""archive: event_id no longer unique

The archive's key is (node_id, seq) (DESIGN §3.3); nothing looks envelopes up by event id.
The unique index on random UUIDs was written all over at every batch — on SQLite about a
sixth of the ingest transaction — and a UUID repeated by two nodes would have failed a
whole batch. SQLite copies the archive table to drop it (minutes for millions of rows).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
"""Names for SQLite's unnamed constraints as batch mode reflects them."""
PG_NAME = "archive_event_id_key"
"""PostgreSQL's own name for the unnamed constraint of 0001."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("archive", naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint("uq_archive_event_id", type_="unique")
    else:
        op.drop_constraint(PG_NAME, "archive", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("archive") as batch_op:
            batch_op.create_unique_constraint("uq_archive_event_id", ["event_id"])
    else:
        op.create_unique_constraint(PG_NAME, "archive", ["event_id"])
