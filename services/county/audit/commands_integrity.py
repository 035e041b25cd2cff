"""Audit commands (integrity): `verify` and `history`, registered on `tongxin audit` (`export` is in
commands_export), and the helpers they share with it."""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from services.county.audit.archive import archive_count, archive_nodes, verify_archive
from services.county.audit.export_verify import ExportFormatError, verify_export
from services.county.audit.history import Kind, history
from services.county.audit.node_receipts import NodeReceiptsError, node_receipts
from services.county.audit.report import Claim, Report
from services.county.audit.report_table import print_report
from services.county.cli_base import fail
from services.county.cli_db import on_command_line as _on_command_line
from services.county.cli_options import DbFile, OptionalDb
from services.county.db import tables as t
from services.county.db.engine import make_engine
from services.county.keys import DEFAULT_COUNTY_KEY
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.cli_tables import print_table
from shared.errors import FieldError
from shared.signing import Signer, Verifier

out = Console(soft_wrap=True, highlight=False, width=None if sys.stdout.isatty() else 200)
"""Tables keep their columns when piped (rich would squeeze them into 80 characters)."""
err = Console(stderr=True, soft_wrap=True, highlight=False)
PROGRESS_FROM = 10_000
"""Show a progress bar from this many envelopes on."""

Db = OptionalDb
Nodes = Annotated[list[str] | None, typer.Option("--node", help="Only this node (repeatable).")]
CountyKey = Annotated[
    Path,
    typer.Option(envvar="TONGXIN_COUNTY_KEY", help="The county key file (its public half checks receipts)."),
]
CountyPublicKey = Annotated[
    str | None, typer.Option(help="The county's public key (64 hex), instead of --county-key.")
]
CountyId = Annotated[
    str | None, typer.Option(envvar="TONGXIN_COUNTY_ID", help="The county's id, e.g. jx (receipts name it).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(
        "verify",
        epilog="Examples: tongxin audit verify --db postgresql://county@db/tongxin --county-id jx ·  "
        "tongxin audit verify --export jx-2026.zip --node-receipts ./dongguan-data",
    )(verify)
    app.command("history", epilog="Example: tongxin audit history org dongguan --json")(show_history)


def _open(db: str | None) -> Engine:
    """The county database as it is: never created, never migrated by an audit."""
    if db is None:
        raise fail("give --db URL (or TONGXIN_COUNTY_DB)")
    url = make_url(db.replace("postgresql://", "postgresql+psycopg://", 1))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise fail(f"no database file {url.database}")
    engine = make_engine(db)
    try:
        present = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        raise fail(f"cannot open {url.render_as_string(hide_password=True)}: {exc}") from None
    if missing := {"archive", "nodes", "node_keys", "receipts"} - present:
        raise fail(f"not a county database at the current schema (no {', '.join(sorted(missing))})")
    return engine


def county_verifier(ctx: typer.Context, path: Path, public_hex: str | None) -> Verifier | None:
    """The county's public key: given in hex, or the public half of its key file (which must
    exist if named on the command line; the default or TONGXIN_COUNTY_KEY's may be absent)."""
    try:
        if public_hex is not None:
            return Verifier.from_hex(public_hex)
        if not path.exists() and not _on_command_line(ctx, "county_key"):
            return None
        return Verifier(Signer.load(path).public_key)
    except (OSError, ValueError) as exc:
        raise fail(f"county key: {exc}") from None


@contextmanager
def _progress(total: int | None, what: str) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=(total or 0) < PROGRESS_FROM) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def verify(
    ctx: typer.Context,
    db: Db = None,
    db_file: DbFile = None,
    export_file: Annotated[
        Path | None, typer.Option("--export", help="An export zip to verify instead.")
    ] = None,
    nodes: Nodes = None,
    node_receipt_paths: Annotated[
        list[Path] | None,
        typer.Option(
            "--node-receipts",
            help="A JSONL file of a node's receipts (`tongxin node receipts --json`), or the "
            "node's data dir to run that command on (repeatable).",
        ),
    ] = None,
    county_key: CountyKey = DEFAULT_COUNTY_KEY,
    county_public_key: CountyPublicKey = None,
    county_id: CountyId = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "--threads",
            min=0,
            max=16,
            help="Processes checking signatures beside the walk (0: inline; 1: one thread).",
        ),
    ] = 2,
    as_json: AsJson = False,
) -> None:
    """Verify every node's chain (from its first enrolled key, following rotations), the archive's
    key rows, and county and node receipts. Exit 0 when all verifies, 1 on any fault."""
    if export_file is not None and (_on_command_line(ctx, "db") or nodes):
        raise fail("--export verifies the whole file: give it without --db and --node")
    key = county_verifier(ctx, county_key, county_public_key)
    try:
        claims = [c for path in node_receipt_paths or () for c in node_receipts(path)]
    except NodeReceiptsError as exc:
        raise fail(str(exc)) from None
    county_ids = {c.receipt.county_id for c in claims}
    county_id = county_id or (county_ids.pop() if len(county_ids) == 1 else None)
    if export_file is not None:
        report = _verify_export(export_file, key, claims, workers)
    else:
        report = _verify_db(db, nodes, key, county_id, claims, workers)
    print_report(report, as_json, out)
    raise typer.Exit(0 if report.ok else 1)


def _verify_export(path: Path, key: Verifier | None, claims: list[Claim], workers: int) -> Report:
    try:
        with zipfile.ZipFile(path) as zf:
            total = json.loads(zf.read("manifest.json"))["totals"]["envelopes"]
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile):
        total = None
    try:
        with _progress(total, "verifying") as advance:
            return verify_export(path, county_key=key, node_claims=claims, workers=workers, progress=advance)
    except ExportFormatError as exc:
        raise fail(str(exc)) from None


def _verify_db(
    db: str | None,
    nodes: list[str] | None,
    key: Verifier | None,
    county_id: str | None,
    claims: list[Claim],
    workers: int,
) -> Report:
    engine = _open(db)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        known = archive_nodes(conn)
        if unknown := sorted(set(nodes or ()) - set(known)):
            raise fail(f"unknown node(s): {', '.join(unknown)}")
        chosen = nodes or known
        has_receipts = conn.execute(select(t.receipts.c.seq).limit(1)).first() is not None
        if has_receipts and county_id is None:
            raise fail("the county's receipts name its id: give --county-id (or TONGXIN_COUNTY_ID)")
        if (has_receipts or claims) and key is None:
            raise fail("receipts need the county key: give --county-key PATH or --county-public-key HEX")
        with _progress(archive_count(conn, chosen), "verifying") as advance:
            return verify_archive(
                conn,
                chosen,
                county_key=key,
                county_id=county_id,
                node_claims=claims,
                workers=workers,
                progress=advance,
            )


def show_history(
    kind: Annotated[Kind, typer.Argument(help="member or org.")],
    entity_id: Annotated[str, typer.Argument(metavar="ID", help="A member id (32 hex) or an org id.")],
    db: Db = None,
    db_file: DbFile = None,
    as_json: AsJson = False,
) -> None:
    """Every archived event about a member or an organisation in business order, with its origin,
    times and whether a county receipt covers it."""
    engine = _open(db)
    try:
        with engine.connect() as conn:
            items = history(conn, kind, entity_id)
    except FieldError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps([i.to_dict() for i in items], ensure_ascii=False) + "\n")
        return
    if not items:
        out.print(f"no archived event about {kind.value} {entity_id}")
        return
    table = Table(
        "occurred (CST)", "node", "seq", "type", "hash", "recorded (CST)", "received (CST)", "receipt", "via"
    )
    for i in items:
        table.add_row(
            _cst(i.occurred_at), i.node_id, str(i.seq), i.type, i.hash[:16], _cst(i.recorded_at),
            _cst(i.received_at), "yes" if i.receipted else "no", i.via,
        )  # fmt: skip
    print_table(out, table)


def _cst(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M:%S")
