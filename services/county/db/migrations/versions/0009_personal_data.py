"""personal data: the county's key store, identity index, reveals log; the roster's sealed personal

Issue 15: members' keys arrive outside the archive and are kept wrapped under a master key held
in a file outside the database (`member_keys`); `identity_index` holds a keyed digest of each
member's ID number (double registrations at two nodes); `reveals` records every reveal. The
roster (`members`, `member_timeline`) gains `personal`, a sealed personal's JSON (NULL for the
older clear events, whose name it keeps in clear as before: existing rows stay as a rebuild
makes them). `erased_members` lists the members erased (`member.erased`): their keys and index
entries are gone, no key of theirs is taken again; the roster's `erased` says so per member.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_keys",
        sa.Column("member_id", sa.String(32), primary_key=True),
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.Text, nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "identity_index",
        sa.Column("member_id", sa.String(32), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("indexed_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_identity_index_digest", "identity_index", ["digest"])
    op.create_table(
        "reveals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("member_id", sa.String(32)),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_reveals_member", "reveals", ["member_id"])
    op.create_table(
        "erased_members",
        sa.Column("member_id", sa.String(32), primary_key=True),
        sa.Column("erased_at", sa.String(32), nullable=False),
    )
    for table in ("members", "member_timeline"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("personal", sa.Text))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("erased", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("erased")
    op.drop_table("erased_members")
    for table in ("member_timeline", "members"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("personal")
    op.drop_index("ix_reveals_member", "reveals")
    op.drop_table("reveals")
    op.drop_index("ix_identity_index_digest", "identity_index")
    op.drop_table("identity_index")
    op.drop_table("member_keys")
