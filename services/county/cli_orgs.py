"""`tongxin county load-orgs`: the county's organisation tree from an .xlsx into the org register
(`reference/`), every error of every row reported and nothing written on any; `--template` writes
the workbook to fill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.county.cli_options import Db, DbFile
from services.county.db.engine import DEFAULT_DB_URL, make_engine, migrate
from services.county.reference.org_sheet import MAX_BYTES, SheetError
from services.county.reference.org_template import template
from services.county.reference.register import load_file
from shared.cli_tables import print_table

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _errors_table(errors: list[SheetError]) -> Table:
    table = Table("行", "列", "原因", title=f"{len(errors)} 处错误，未导入任何一行")
    for e in errors:
        table.add_row(str(e.row) if e.row else "-", e.column or "-", e.reason)
    return table


def load_orgs(
    file: Annotated[
        Path | None,
        typer.Argument(help="The tree as an .xlsx (sheet 组织树, or the first sheet).", show_default=False),
    ] = None,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    template_out: Annotated[
        Path | None,
        typer.Option("--template", help="Write the workbook to fill to this path instead, and stop."),
    ] = None,
) -> None:
    """Load the county's organisation tree — county, townships, villages (村党支部), outstations
    (流动党组织) with their node, host organisations (流入地党组织) with their location, chambers —
    each with its code and Chinese name. The whole file is checked first: any error (each named by
    row and column) and nothing is written. Loading the same file again changes nothing; a changed
    name is updated. The running county hands the tree to every node within seconds."""
    if template_out is not None:
        template_out.write_bytes(template())
        out.print(
            f"wrote the template {template_out}: fill the sheet 组织树, then tongxin county load-orgs FILE"
        )
        return
    if file is None:
        err.print("error: FILE: give the .xlsx to load (or --template OUT.xlsx for the template)")
        raise typer.Exit(2)
    try:
        with file.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # read_sheet refuses a larger file
    except OSError as exc:
        err.print(f"error: FILE: cannot read {file} ({exc.strerror})")
        raise typer.Exit(2) from None
    engine = make_engine(db)
    try:
        migrate(engine)
        parsed, loaded = load_file(engine, data)
    finally:
        engine.dispose()
    if loaded is None:
        print_table(err, _errors_table(parsed.errors))
        raise typer.Exit(1)
    out.print(
        f"loaded {len(parsed.rows)} organisation(s) from {file}: {loaded.added} added, "
        f"{loaded.changed} changed, {loaded.unchanged} unchanged"
    )


def register(app: typer.Typer) -> None:
    """Add this module's command to `app`."""
    app.command(
        "load-orgs",
        epilog="Example: tongxin county load-orgs --template 组织树.xlsx; then "
        "tongxin county load-orgs 组织树.xlsx --db postgresql://county@db/tongxin",
    )(load_orgs)
