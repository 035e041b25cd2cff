"""`tongxin node backup | restore`: a node's data dir copied while it runs, and put back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.branch_node import backup as node_backup
from services.branch_node.cli_base import DataDir, fail, out
from shared.backup import MANIFEST, BackupError


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(epilog="Example: tongxin node backup -d ./tongxin-node --out /srv/backup/dongguan-20261127")(
        backup
    )
    app.command(
        epilog="Examples:\n\ntongxin node restore --from /srv/backup/dongguan-20261127 -d ./tongxin-node\n\n"
        "tongxin node restore --from /srv/backup/dongguan-20261127 -d ./tongxin-node --force   "
        "# the node there is moved aside first"
    )(restore)


def backup(
    to: Annotated[
        Path,
        typer.Option("--out", help="A new directory for the backup (created, mode 0700; must not exist)."),
    ],
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Back up the node's data dir, also while `node serve` runs.

    log.db and personal.db (the members' keys) are copied through SQLite's online backup API (a
    consistent snapshot: whole batches, never half a one); node.json, node.key and keys/ keep
    their modes. backup.json
    lists every file with its SHA-256, and the copy's last seq and head hash."""
    try:
        manifest = node_backup.backup(data_dir, to)
    except BackupError as exc:
        raise fail(str(exc)) from None
    out.print(f"backed up node {manifest.node_id} (county {manifest.county_id}) to {to}", highlight=False)
    out.print(
        f"log: seq {manifest.last_seq}, signed {manifest.signed_seq}, head hash {manifest.head_hash}, "
        f"forwarded {manifest.forwarded_seq}",
        highlight=False,
    )
    for f in manifest.files:
        out.print(f"  {f.mode}  {f.size:>12,}  {f.path}  sha256 {f.sha256[:16]}…", highlight=False)
    out.print(f"  {len(manifest.files)} file(s), each with its SHA-256 in {to / MANIFEST}", highlight=False)


def restore(
    source: Annotated[
        Path, typer.Option("--from", help="A backup directory, made by `tongxin node backup`.")
    ],
    data_dir: DataDir = Path("tongxin-node"),
    force: Annotated[
        bool,
        typer.Option(
            help="Replace what is in --data-dir: it is moved aside to <data dir>.replaced-<time>, "
            "never deleted."
        ),
    ] = False,
) -> None:
    """Restore a node from a backup: every file checked against backup.json first, then put back
    with its mode. Stop `node serve` on the data dir before restoring into it."""
    try:
        done = node_backup.restore(source, data_dir, force=force)
    except BackupError as exc:
        raise fail(str(exc)) from None
    m = done.manifest
    out.print(f"restored node {m.node_id} (county {m.county_id}) into {data_dir}", highlight=False)
    out.print(
        f"log: seq {m.last_seq}, head hash {m.head_hash} (backup of {m.created_at}); "
        f"{len(m.files)} file(s) match {MANIFEST}",
        highlight=False,
    )
    if done.replaced is not None:
        out.print(f"what was in {data_dir} is now in {done.replaced} (nothing deleted)", highlight=False)
    out.print(
        "next: the county may hold more of this node's chain than this backup does (what the node "
        "recorded after the backup). Before recording anything new at this node, run "
        f"`tongxin node recover -d {data_dir}` (`node serve` stopped, the county reachable): it fetches "
        "the county's copy back, or says there is nothing to recover. A node that "
        "forwards meanwhile learns it from the county's receipts: `tongxin node status` shows a "
        "fork and forwarding stops until the recovery.",
        highlight=False,
    )
