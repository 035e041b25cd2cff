"""`tongxin node import`: a file of events or a roster, all or nothing, every error of every line.

The same reading as the outstation page's import (`roster_files`, `roster_cells`): Excel dates and
dates written as an office writes them, an ID number Excel stored as a number said plainly, and
`--skip-existing` to leave out members already registered at this node and import the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.branch_node.application import BatchError
from services.branch_node.cli_base import DataDir, err, fail, open_node, out
from services.branch_node.roster_files import read_file
from shared.catalog import EVENT_TYPES

SHOWN = 50
"""Errors printed at most (the count says how many there are)."""


def register(app: typer.Typer) -> None:
    """Add this module's command to `app`."""
    app.command(
        "import",
        epilog="Examples:\n\ntongxin node import roster.csv --type member.registered\n\n"
        "tongxin node import events.jsonl\n\n"
        "tongxin node import roster.xlsx --type member.registered --skip-existing",
    )(import_)


def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .jsonl, .csv or .xlsx file.")],
    type_: Annotated[
        str | None,
        typer.Option("--type", help="Event type of every CSV or Excel row without a type column."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Check every row, append nothing.")] = False,
    skip_existing: Annotated[
        bool,
        typer.Option(
            help="Leave out registrations of members already registered at this node (by ID number) "
            "and import the rest."
        ),
    ] = False,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Import a file all-or-nothing: one bad row rejects the file, with every reason of every line."""
    if type_ is not None and type_ not in EVENT_TYPES:
        raise fail(f"--type: unknown event type {type_!r}")
    data = file.read_bytes()
    node = open_node(data_dir)
    seqs: list[int] = []
    try:
        kind = file.suffix.lower().lstrip(".")
        parsed = read_file(data, kind, type_, node.keys, skip_existing=skip_existing)
        problems = parsed.problems
        if not problems and dry_run:  # the log's own rules too (times, a member's history here)
            checked = node.log.check(parsed.events)
            problems = [f"line {parsed.lines[i]}: {e}" for i, error in checked for e in error.all()]
        elif not problems:
            try:
                seqs = node.record(parsed.events)
            except BatchError as exc:
                problems = [f"line {parsed.lines[i]}: {e}" for i, error in exc.errors for e in error.all()]
    finally:
        node.close()
    for line, warning in parsed.warnings:
        err.print(f"line {line}: warning: {warning}", highlight=False, markup=False)
    if problems:
        for p in problems[:SHOWN]:
            err.print(p, highlight=False, markup=False)
        more = f" (first {SHOWN} shown of {len(problems)})" if len(problems) > SHOWN else ""
        raise fail(f"{file}: {len(problems)} error(s){more}; nothing was appended")
    skipped = f"; {len(parsed.skipped)} already registered here, skipped" if parsed.skipped else ""
    if dry_run:
        out.print(f"{file}: {len(parsed.events)} event(s) are valid{skipped}; nothing appended (--dry-run)")
    elif seqs:
        out.print(f"{file}: appended {len(seqs)} event(s), seq {seqs[0]}..{seqs[-1]}{skipped}")
    else:
        out.print(f"{file}: no events in the file{skipped}")
