"""`tongxin county backup | restore`: the county database (SQLite or PostgreSQL) and its receipt key,
copied while the county runs, and put back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from services.county import backup as county_backup
from services.county.cli_base import fail
from services.county.cli_options import Db, DbFile
from services.county.db.engine import DEFAULT_DB_URL
from services.county.keys import DEFAULT_COUNTY_KEY
from shared.backup import MANIFEST, BackupError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(
        epilog="Examples:\n\ntongxin county backup --db sqlite:///tongxin-county.db "
        "--out /srv/backup/county-20261127"
        "\n\ntongxin county backup --db postgresql://county@db/tongxin --county-id jx "
        "--county-key /etc/tongxin/county.key --out /srv/backup/county-20261127"
    )(backup)
    app.command(
        epilog="Examples:\n\ntongxin county restore --from /srv/backup/county-20261127 "
        "--db sqlite:///tongxin-county.db --force   # the current file moved aside first"
        "\n\ntongxin county restore --from /srv/backup/county-20261127 --db postgresql://county@db/tongxin "
        "--county-key /etc/tongxin/county.key"
    )(restore)


def _shown(db: str) -> str:
    """The URL without its password, to print."""
    try:
        return make_url(db).render_as_string(hide_password=True)
    except ArgumentError:
        return db


def backup(
    to: Annotated[
        Path,
        typer.Option("--out", help="A new directory for the backup (created, mode 0700; must not exist)."),
    ],
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    county_key: Annotated[
        Path,
        typer.Option(
            "--county-key", envvar="TONGXIN_COUNTY_KEY", help="The county's receipt key file, copied too."
        ),
    ] = DEFAULT_COUNTY_KEY,
    county_id: Annotated[
        str | None,
        typer.Option(
            "--county-id",
            envvar="TONGXIN_COUNTY_ID",
            help="The county's id: names its JetStream consumer in backup.json.",
        ),
    ] = None,
) -> None:
    """Back up the county database and its receipt key, also while the county runs.

    SQLite through its online backup API; PostgreSQL by `pg_dump --format=custom` (PostgreSQL's
    client tools must be installed). backup.json lists each file's SHA-256, each node's head in the
    archive, the archive's row count, the Alembic revision and the NATS names the county uses."""
    try:
        m = county_backup.backup(db, to, county_key, county_id)
    except BackupError as exc:
        raise fail(str(exc)) from None
    out.print(f"backed up the county's {m.db_kind} database to {to}", highlight=False)
    out.print(
        f"archive: {m.archive_rows} envelope(s), {len(m.heads)} node(s); revision {m.alembic_revision}",
        highlight=False,
    )
    for h in m.heads:
        out.print(f"  {h.node_id:<24} seq {h.last_seq:>9}  hash {h.last_hash[:16]}…", highlight=False)
    for f in m.files:
        out.print(f"  {f.mode}  {f.size:>12,}  {f.path}  sha256 {f.sha256[:16]}…", highlight=False)
    out.print(f"  {len(m.files)} file(s), each with its SHA-256 in {to / MANIFEST}", highlight=False)
    out.print(
        f"not in the backup: NATS (streams {m.nats.events_stream} and {m.nats.receipts_stream}, "
        f"consumer {m.nats.consumer}); the county creates them again when it starts",
        highlight=False,
    )


def restore(
    source: Annotated[
        Path, typer.Option("--from", help="A backup directory, made by `tongxin county backup`.")
    ],
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    county_key: Annotated[
        Path,
        typer.Option(
            "--county-key", envvar="TONGXIN_COUNTY_KEY", help="Where the county's receipt key is restored."
        ),
    ] = DEFAULT_COUNTY_KEY,
    force: Annotated[
        bool,
        typer.Option(
            help="Replace what is there: a SQLite file or another key file is moved aside "
            "(<name>.replaced-<time>, never deleted); in PostgreSQL the backup's tables are dropped "
            "and created again (pg_restore --clean --if-exists)."
        ),
    ] = False,
) -> None:
    """Restore the county database and its receipt key from a backup.

    Every file is checked against backup.json first; then the database is restored into --db (of
    the kind backed up) and checked to hold exactly the backed-up heads. Stop the county first."""
    try:
        done = county_backup.restore(source, db, county_key, force=force)
    except BackupError as exc:
        raise fail(str(exc)) from None
    m = done.manifest
    out.print(
        f"restored the county's {m.db_kind} database (backup of {m.created_at}): "
        f"{m.archive_rows} archived envelope(s), the heads of {len(m.heads)} node(s) as backed up",
        highlight=False,
    )
    if done.key_restored:
        out.print(f"receipt key restored to {county_key}", highlight=False)
    elif m.county_key is not None:
        out.print(f"receipt key: {county_key} already holds the backed-up key", highlight=False)
    for path in done.replaced:
        out.print(f"moved aside (nothing deleted): {path}", highlight=False)
    out.print(
        "next: start the county (`tongxin county serve`). On its next start it re-reads the stream from "
        "the position its restored database holds and announces its real heads to the nodes in fresh "
        "receipts; each node re-sends what the restored database lacks. Then check: "
        f"`tongxin audit verify --db {_shown(db)} --county-id <county id>` and each node's health at "
        "/api/v1/nodes.",
        highlight=False,
    )
