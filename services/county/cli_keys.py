"""`county revoke-key`, `county revocations` and `county rotate-key`: the key lifecycle.

A node's leaked key is revoked from a seq on (`revoke-key`); the node comes back with a new key
from that seq (`enrol-node NODE KEY --from-seq N`, in cli_nodes; `tongxin node rekey` at the
node). The county's own receipt key is rotated with an overlap (`rotate-key`). What each does to
the archive, the projections and the nodes: docs/operations.md, "Key lifecycle".
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from services.county.cli_base import fail
from services.county.cli_options import Db, DbFile
from services.county.db.engine import DEFAULT_DB_URL, make_engine, migrate
from services.county.key_rotation import rotate
from services.county.keys import DEFAULT_COUNTY_KEY
from services.county.reenrolment import revocations
from services.county.revocation import Revocation, plan, revoke
from shared.cli_tables import print_table
from shared.errors import FieldError

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

CountyId = Annotated[
    str, typer.Option("--county-id", envvar="TONGXIN_COUNTY_ID", help="The county's id, e.g. jx.")
]


def _describe(r: Revocation) -> None:
    out.print(
        f"node {r.node_id}: keys {', '.join(r.key_ids)} no longer sign seq {r.from_seq} or later",
        markup=False,
    )
    out.print(
        f"archived envelopes from seq {r.from_seq} to the head {r.head_seq}: {r.envelopes} "
        f"(moved to revoked_archive), receipts for them: {r.receipts}, held: {r.held} (quarantined)",
        markup=False,
    )
    for seq, type_, key_id in r.first:
        out.print(f"  seq {seq}  {type_}  signed by key {key_id}", markup=False)
    if r.envelopes > len(r.first):
        out.print(f"  … and {r.envelopes - len(r.first)} more", markup=False)


def revoke_key(
    node_id: Annotated[str, typer.Argument(help="The node whose keys are revoked.")],
    from_seq: Annotated[
        int, typer.Option("--from-seq", min=1, help="The first seq the leaked key may have signed.")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept with the revocation, shown to auditors).")
    ],
    county_id: CountyId,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be revoked; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")] = False,
) -> None:
    """Revoke every key of a node from a seq on: nothing they sign from there is accepted
    (quarantined key_revoked), and what the county archived of the node from there — a thief's
    node.key_rotated and all after it — leaves the chain for revoked_archive, the head goes back
    to the seq before, and the projections are rebuilt. Then re-enrol the node with a new key
    from the same seq (`tongxin node rekey --from-seq N` at the node, then `tongxin county
    enrol-node NODE KEY --from-seq N`). Its NATS access is separate: `revoke-node`."""
    engine = make_engine(db)
    try:
        migrate(engine)
        with engine.connect() as conn:
            planned = plan(conn, node_id, from_seq)
        _describe(planned)
        if dry_run:
            return
        if not yes and not typer.confirm("revoke now?"):
            raise typer.Exit(1)
        with engine.begin() as conn:
            done = revoke(conn, county_id, node_id, from_seq, reason)
    except FieldError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    out.print(
        f"revoked (revocation {done.id}): {done.envelopes} envelope(s) and {done.receipts} receipt(s) "
        f"kept aside, {done.held} held envelope(s) quarantined"
        + ("; projections rebuilt" if done.envelopes else ""),
        markup=False,
    )
    out.print(
        f"next: at the node, `tongxin node rekey --from-seq {from_seq}`; then here, "
        f"`tongxin county enrol-node {node_id} NEW_PUBLIC_KEY --from-seq {from_seq}`",
        markup=False,
    )


def list_revocations(
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every revocation of a node's keys: when, why, from which seq, what it took out, and the
    key the node was re-enrolled with."""
    engine = make_engine(db)
    try:
        migrate(engine)
        with engine.connect() as conn:
            rows = revocations(conn)
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("id", "node", "from seq", "keys", "revoked at", "envelopes", "reason", "re-enrolled")
    for r in rows:
        again = f"{r['new_key_id']} ({r['reenrolled_at']})" if r["new_key_id"] else "not yet"
        table.add_row(
            str(r["id"]), r["node_id"], str(r["from_seq"]), r["key_ids"].replace(",", " "),
            r["revoked_at"], str(r["envelopes"]), escape(r["reason"]), again,
        )  # fmt: skip
    print_table(out, table)


def rotate_key(
    county_id: CountyId,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    county_key: Annotated[
        Path,
        typer.Option("--county-key", envvar="TONGXIN_COUNTY_KEY", help="The county's receipt key file."),
    ] = DEFAULT_COUNTY_KEY,
    overlap_days: Annotated[
        float, typer.Option("--overlap-days", min=0, help="How long the old key co-signs receipts.")
    ] = 7.0,
    compromised: Annotated[
        bool,
        typer.Option("--compromised", help="The old key leaked: no overlap, nothing for nodes to adopt."),
    ] = False,
) -> None:
    """Make a new county receipt key. Receipts are then signed by the new key and, for the
    overlap, co-signed by the old one, and carry the handover both signed: a node that trusts
    the old key adopts the new one by itself. Restart `county serve` / `county ingest` to sign
    with it. With --compromised, give every node the new key: `tongxin node county-key set HEX`."""
    engine = make_engine(db)
    try:
        migrate(engine)
        with engine.begin() as conn:
            done = rotate(
                conn, county_key, county_id, overlap=timedelta(days=overlap_days), compromised=compromised
            )
        done.install(county_key)
    except FieldError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    h = done.handover
    out.print(f"county key {h.prev_key_id} → {h.key_id}; public key {h.public_key}")
    if compromised:
        out.print("the old key is not kept and signs nothing more; give every node the new key:")
        out.print(f"  tongxin node county-key set {h.public_key}")
    else:
        out.print(f"the old key is kept at {done.kept} and co-signs receipts until {h.overlap_until}")
        out.print("nodes that trust the old key adopt the new one from the next receipt")
    out.print("restart `tongxin county serve` (or `county ingest`) to sign with the new key")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(
        "revoke-key",
        epilog="Example: tongxin county revoke-key dongguan --from-seq 4213 --reason "
        '"node PC stolen on 3 May; the thief rotated to his own key at seq 4213" --county-id jx --yes',
    )(revoke_key)
    app.command("revocations", epilog="Example: tongxin county revocations --json")(list_revocations)
    app.command(
        "rotate-key",
        epilog="Examples: tongxin county rotate-key --county-id jx --overlap-days 14 · "
        "after a compromise: tongxin county rotate-key --county-id jx --compromised",
    )(rotate_key)
