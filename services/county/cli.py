"""`tongxin county …`: serve, ingest, enrol-node, nodes, rebuild, quarantine, digest, migrate; backup and
restore in cli_backup; revoke-key, revocations and rotate-key in cli_keys."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from services.county import cli_backup, cli_ingest, cli_keys, cli_nodes, cli_orgs, cli_personal, cli_users
from services.county.cli_base import open_engine
from services.county.cli_options import (
    CountyId,
    CountyKey,
    Db,
    DbFile,
    MaxClockAhead,
    Nats,
    NatsCa,
    NatsSeed,
    PersonalKey,
    RepairGrace,
)
from services.county.db.engine import DEFAULT_DB_URL, make_engine, migrate
from services.county.ingest.checks import MAX_CLOCK_AHEAD
from services.county.ingest.processor import Ingestor
from services.county.keys import DEFAULT_COUNTY_KEY, load_or_create
from services.county.projections.digest import digest as projection_digest
from services.county.projections.rebuild import rebuild as rebuild_projections
from services.county.queries.archive import archived_events
from services.county.queries.claims import claims
from services.county.queries.quarantine import quarantine
from services.county.registry import list_nodes
from services.county.settings import CountySettings
from shared.cli_tables import print_table
from shared.cli_version import add_version_option
from shared.wire import DEFAULT_NATS_URL

app = typer.Typer(help="The county service: ingest, archive, projections, query API.", no_args_is_help=True)
quarantine_app = typer.Typer(
    help="Messages refused at ingest, kept with their reason; refused claims (archived, not projected).",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")
add_version_option(app)
MAX_CLOCK_AHEAD_S = MAX_CLOCK_AHEAD.total_seconds()
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.command("migrate", epilog="Example: tongxin county migrate --db postgresql://county@db/tongxin")
def migrate_schema(db: Db = DEFAULT_DB_URL, db_file: DbFile = None) -> None:
    """Create or upgrade the county schema (Alembic migrations), saying which revisions it applied."""
    engine = make_engine(db)
    before, after = migrate(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"schema already at {after} in {where}; nothing applied", highlight=False)
    else:
        out.print(f"schema upgraded {before or '(empty)'} → {after} in {where}", highlight=False)


@app.command(epilog="Example: tongxin county serve --county-id jx --port 8700")
def serve(
    county_id: CountyId,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    nats: Nats = DEFAULT_NATS_URL,
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8700,
    county_key: CountyKey = DEFAULT_COUNTY_KEY,
    repair_grace: RepairGrace = 15.0,
    max_clock_ahead: MaxClockAhead = MAX_CLOCK_AHEAD_S,
    nats_seed: NatsSeed = None,
    nats_ca: NatsCa = None,
    personal_key: PersonalKey = None,
    ingest: Annotated[
        bool,
        typer.Option(
            envvar="TONGXIN_COUNTY_SERVE_INGEST",
            help="Run the county's one ingest here; --no-ingest beside `county ingest --workers W`.",
        ),
    ] = True,
) -> None:
    """Ingest from JetStream and serve the query API until Ctrl-C / SIGTERM."""
    from services.county.serve import serve as run
    from shared.logs import configure

    configure()
    settings = CountySettings(
        county_id,
        db,
        nats,
        county_key,
        repair_grace,
        max_clock_ahead,
        nats_seed=nats_seed,
        nats_ca=nats_ca,
        personal_key=personal_key,
    )
    asyncio.run(run(open_engine(db), settings, host, port, ingest=ingest))


@app.command(epilog="Example: tongxin county nodes --json")
def nodes(
    db: Db = DEFAULT_DB_URL, db_file: DbFile = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """The enrolled nodes, their slots and keys.

    A node's slot, its place in the order of enrolment, gives its ingest worker: worker
    (slot mod P) mod W of W, P the workers' --partitions (16)."""
    with open_engine(db).connect() as conn:
        rows = list_nodes(conn)
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table("node", "slot", "speaks for", "key id", "public key", "enrolled")
    for r in rows:
        speaks = ("county office; " if r["office"] else "") + ", ".join(r["org_ids"])
        table.add_row(
            r["node_id"], str(r["slot"]), speaks, r["key_id"] or "-", r["public_key"] or "-", r["enrolled_at"]
        )
    print_table(out, table)


@app.command(epilog="Example: tongxin county rebuild --db postgresql://county@db/tongxin")
def rebuild(db: Db = DEFAULT_DB_URL, db_file: DbFile = None) -> None:
    """Drop every projection and rebuild it from the archive (one transaction), with progress."""
    engine = open_engine(db)
    with engine.connect() as conn:
        total = archived_events(conn)
    with Progress(TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
        task = bar.add_task("rebuild", total=total)
        with engine.begin() as conn:
            done = rebuild_projections(conn, progress=lambda n: bar.update(task, completed=n))
            value = projection_digest(conn)
    out.print(f"rebuilt from {done} archived event(s); digest {value}")


@app.command(epilog="Example: tongxin county key")
def key(county_key: CountyKey = DEFAULT_COUNTY_KEY) -> None:
    """Print the county's receipt key (give the public key to nodes: node init --county-public-key)."""
    signer = load_or_create(county_key)
    out.print(f"public key: {signer.public_key_hex}")
    out.print(f"key id:     {signer.key_id}")


@app.command(epilog="Example: tongxin county digest")
def digest(db: Db = DEFAULT_DB_URL, db_file: DbFile = None) -> None:
    """Print the live projection digest."""
    with open_engine(db).connect() as conn:
        out.print(projection_digest(conn))


@quarantine_app.command("list", epilog="Example: tongxin county quarantine list --all")
def quarantine_list(
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved.")] = False,
) -> None:
    """Quarantined messages with their reasons."""
    table = Table("id", "received", "node", "seq", "reason", "detail", "resolved")
    with open_engine(db).connect() as conn:
        for r in quarantine(conn, include_resolved=show_all, limit=None)["items"]:
            table.add_row(
                str(r["id"]),
                r["received_at"],
                r["node_id"] or "-",
                str(r["seq"] or "-"),
                r["reason"],
                escape(r["detail"][:80]),  # a detail quotes what the sender sent: never markup
                r["resolved_at"] or "",
            )
    print_table(out, table)


@quarantine_app.command("claims", epilog="Example: tongxin county quarantine claims --reason not_own_org")
def quarantine_claims(
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    node: Annotated[str | None, typer.Option("--node", help="Only this node's.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason, e.g. not_own_member.")] = None,
) -> None:
    """Refused claims: archived events their node was not entitled to make (docs/authority.md).
    Archived and acknowledged, not projected; nothing to retry."""
    table = Table("node", "seq", "type", "occurred", "reason", "detail")
    with open_engine(db).connect() as conn:
        found = claims(conn, node_id=node, reason=reason, limit=None)
    for r in found["items"]:
        table.add_row(
            r["node_id"], str(r["seq"]), r["type"], r["occurred_at"], r["reason"], escape(r["detail"][:100])
        )
    print_table(out, table)
    out.print(f"{found['total']} refused claim(s)")


@quarantine_app.command("retry", epilog="Example: tongxin county quarantine retry --county-id jx")
def quarantine_retry(
    county_id: CountyId,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    ids: Annotated[list[int] | None, typer.Option("--id", help="Only these rows (repeatable).")] = None,
    max_clock_ahead: MaxClockAhead = MAX_CLOCK_AHEAD_S,
) -> None:
    """Re-process open quarantine rows after a fix (e.g. after enrol-node, or with a larger
    --max-clock-ahead for a node whose clock ran ahead)."""
    ingestor = Ingestor(open_engine(db), county_id, max_clock_ahead=timedelta(seconds=max_clock_ahead))
    resolved, still = ingestor.retry_quarantine(ids)
    out.print(f"resolved {resolved}; still quarantined {still}")


cli_backup.register(app)
cli_ingest.register(app)

cli_nodes.register(app)
cli_orgs.register(app)
cli_keys.register(app)
cli_personal.register(app)
cli_users.register(app)
