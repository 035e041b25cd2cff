"""Human tables of the command line, sized to where they are printed.

On a terminal a table takes `shutil.get_terminal_size()`'s width (COLUMNS first, then the
terminal's own); when its rows are wider, the widest column is folded onto more lines (the others
kept whole while they fit) — never cut with `…`: a public key or a hash in a table is there to be
copied whole. Piped
into a file or `less`, a table is as wide as its rows (rich alone would cut it at 80 columns, or
at a COLUMNS some parent process set)."""

from __future__ import annotations

import shutil

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

UNBOUNDED = 1_000_000
MIN_FOLDED = 8
"""The least a folded column keeps; below it, every column folds a little instead."""


def table_width(console: Console, table: Table) -> int:
    """The width to print `table` at on `console`."""
    if console.is_terminal:
        return shutil.get_terminal_size().columns
    return natural_width(console, table)


def natural_width(console: Console, table: Table) -> int:
    return max(Measurement.get(console, console.options.update(width=UNBOUNDED), table).maximum, 1)


def print_table(console: Console, table: Table) -> None:
    """Print `table` at the width it fits, folding (not eliding) the widest column first."""
    width = table_width(console, table)
    for column in table.columns:
        column.overflow = "fold"
    _keep_narrow_columns_whole(console, table, width)
    before = console.width
    console.width = width  # console.print(width=…) would be capped at the console's own width
    try:
        console.print(table)
    finally:
        console.width = before


def _keep_narrow_columns_whole(console: Console, table: Table, width: int) -> None:
    options = console.options.update(width=UNBOUNDED)
    contents = [
        max(Measurement.get(console, options, cell).maximum for cell in [column.header, *column.cells])
        for column in table.columns
    ]
    natural = natural_width(console, table)
    if natural <= width or not contents:
        return
    frame = natural - sum(contents)  # borders and padding
    widest = contents.index(max(contents))
    left = width - frame - (sum(contents) - contents[widest])
    if left < MIN_FOLDED:
        return  # too narrow to keep the others whole: rich folds every column a little
    for i, column in enumerate(table.columns):
        if i == widest:
            column.width = left
        else:
            column.min_width = contents[i]
