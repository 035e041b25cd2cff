"""Audit command `export`: the chosen nodes' envelopes, keys and receipts as a zip whose manifest
the county key signs (docs/audit.md §3), registered on `tongxin audit` by audit/cli.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from services.county.audit.archive import archive_count, archive_nodes
from services.county.audit.commands_integrity import (
    CountyId,
    Db,
    Nodes,
    _open,
    _progress,
    out,
)
from services.county.audit.export import BrokenArchiveError, Selection, SelectionError, write_export
from services.county.cli_base import fail
from services.county.cli_db import on_command_line as _on_command_line
from services.county.cli_options import DbFile
from services.county.keys import DEFAULT_COUNTY_KEY
from shared.signing import Signer


def register(app: typer.Typer) -> None:
    """Add `export` to `app`."""
    app.command(
        "export",
        epilog="Example: tongxin audit export --db sqlite:///tongxin-county.db --node dongguan "
        "--from 2026-03-01 --to 2026-03-31 --county-id jx --out dongguan-march.zip",
    )(export)


def county_signer(ctx: typer.Context, path: Path) -> Signer | None:
    """The county's key file, which signs exports (it must exist if named on the command line)."""
    if not path.exists() and not _on_command_line(ctx, "county_key"):
        return None
    try:
        return Signer.load(path)
    except (OSError, ValueError) as exc:
        raise fail(f"county key: {exc}") from None


def export(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="The zip to write (must not exist).")],
    db: Db = None,
    db_file: DbFile = None,
    nodes: Nodes = None,
    from_seq: Annotated[int | None, typer.Option(help="First seq (each node).")] = None,
    to_seq: Annotated[int | None, typer.Option(help="Last seq (each node).")] = None,
    date_from: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day recorded (China date).")
    ] = None,
    date_to: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day recorded, inclusive.")
    ] = None,
    county_key: Annotated[
        Path,
        typer.Option(envvar="TONGXIN_COUNTY_KEY", help="The county key file: it signs the manifest."),
    ] = DEFAULT_COUNTY_KEY,
    county_id: CountyId = None,
) -> None:
    """Export nodes' envelopes, first keys and county receipts as a zip an auditor verifies offline
    (docs/audit.md), its manifest signed by the county key; a range that starts after seq 1
    carries its anchor in the manifest. A county id or key the archive's receipts were not
    issued under is refused."""
    if out_file.exists():
        raise fail(f"{out_file} exists: remove it or choose another --out")
    key = county_signer(ctx, county_key)
    sel = Selection(nodes, from_seq, to_seq, date_from and date_from.date(), date_to and date_to.date())
    engine = _open(db)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            total = archive_count(conn, sel.nodes or archive_nodes(conn))
            with _progress(total, "exporting") as advance:
                manifest = write_export(
                    conn, sel, out_file, county_id=county_id, county_key=key, progress=advance
                )
    except SelectionError as exc:
        raise fail(str(exc)) from None
    except BrokenArchiveError as exc:
        raise fail(str(exc), 1) from None
    for node, m in manifest["nodes"].items():
        out.print(f"{node}: seq {m['first_seq']}–{m['last_seq']} ({m['count']}), head {m['head_hash']}")
    totals = manifest["totals"]
    out.print(f"exported {totals['envelopes']} envelope(s) and {totals['receipts']} receipt(s) to {out_file}")
