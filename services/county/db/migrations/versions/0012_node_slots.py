"""nodes.slot: each node's enrolment ordinal, which places it among the ingest workers

A node's ingest partition was `sha256(node_id) mod P`, which spreads a county's few nodes unevenly
(the bench's 21 nodes: 14 and 7 over 2 workers); it is now `slot mod P`, the slot being the
node's place in the order of enrolment (0, 1, 2 …), so W workers get nodes within one of each
other (`services/county/ingest/partitions.py`). Existing nodes get their slots in the order they
were enrolled (`enrolled_at`, then `node_id`); `registry.enrol` gives each new node the next.

The per-partition ingest positions (`TONGXIN.p<k>`) are deleted, since partition k now holds other
nodes: kept, a worker could resume from a partition's position past messages of a node that came
to it from a worker that had not read them yet. Without them, each worker resumes from the one
ingest's position (`TONGXIN`, see `ingest/durable.py`: a partition without a position starts
there), which no worker ever advances: everything at or below it was committed by the one ingest,
and what the stream holds after it is read again. Re-reading is idempotent: an envelope at or
below its node's archived head is a `duplicate` (the same hash) and changes nothing, one held
behind a gap is held once, a refused one is quarantined once (keyed by its content). The cost is
time, not correctness: a county that ran workers and never the one ingest re-reads its whole
events stream once, its workers recreating their consumers from there. Stop every ingest worker
before the upgrade (as for any change of `--partitions` or W): a worker of the old code still
running would go on writing partition positions and reading the nodes of the old hash.
The downgrade deletes them too: written by slot, they would name other nodes under the hash.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PARTITION_POSITIONS = "TONGXIN.p%"
"""The per-partition positions' keys (`partitions.position_key`; a migration does not import the
app): the events stream's name, `.p` and the partition."""


def upgrade() -> None:
    with op.batch_alter_table("nodes") as batch_op:
        batch_op.add_column(sa.Column("slot", sa.Integer(), nullable=True))
    conn = op.get_bind()
    enrolled = conn.execute(sa.text("SELECT node_id FROM nodes ORDER BY enrolled_at, node_id")).scalars()
    for slot, node_id in enumerate(list(enrolled)):
        conn.execute(sa.text("UPDATE nodes SET slot = :s WHERE node_id = :n"), {"s": slot, "n": node_id})
    with op.batch_alter_table("nodes") as batch_op:
        batch_op.alter_column("slot", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ux_nodes_slot", ["slot"], unique=True)
    _forget_partition_positions()


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch_op:
        batch_op.drop_index("ux_nodes_slot")
        batch_op.drop_column("slot")
    _forget_partition_positions()


def _forget_partition_positions() -> None:
    op.execute(sa.text("DELETE FROM ingest_position WHERE stream LIKE :k").bindparams(k=PARTITION_POSITIONS))
