"""The database URL of the county's commands, which may carry a password: `--db URL`, the
environment (`TONGXIN_COUNTY_DB`) or a file (`--db-file PATH`, `TONGXIN_COUNTY_DB_FILE`).

A URL with a password given on the command line still works, with a warning on stderr: `ps` and
the shell's history show it to others. The file is read for its first line (at most 4 KiB); it
stays the operator's to keep 0600. `--db` and `--db-file` together are refused (exit 2).

The two options' callbacks meet in the command's context, whichever click processes first
(options on the command line first, in their order, then the others, in declaration order)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MAX_FILE_BYTES = 4096
FROM_FILE = "tongxin.db_from_file"
"""ctx.meta key: the URL read from --db-file."""


def has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except (ArgumentError, ValueError):
        return False


def warn_visible(option: str, env: str, file_option: str) -> None:
    print(
        f"warning: {option} on the command line is visible to others in `ps` and in the shell's "
        f"history; give it in {env} or with {file_option} PATH instead",
        file=sys.stderr,
    )


def read_secret_file(path: Path, option: str) -> str:
    """The first line of `path`, stripped; a missing, unreadable, empty or too big file is a 2."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror or exc}", param_hint=option) from None
    if len(data) > MAX_FILE_BYTES:
        raise typer.BadParameter(f"{path} is over {MAX_FILE_BYTES} bytes", param_hint=option)
    lines = data.decode("utf-8", errors="replace").splitlines()
    value = lines[0].strip() if lines else ""
    if not value:
        raise typer.BadParameter(f"{path} is empty (the first line is read)", param_hint=option)
    return value


def on_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether the option `name` was given on the command line (not by default or environment)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _both() -> typer.BadParameter:
    return typer.BadParameter("give --db or --db-file, not both", param_hint="--db-file")


def _db(ctx: typer.Context, value: str | None) -> str | None:
    from_file: str | None = ctx.meta.get(FROM_FILE)
    if from_file is not None:  # --db-file came first
        if on_command_line(ctx, "db"):
            raise _both()
        return from_file
    if value is not None and on_command_line(ctx, "db") and has_password(value):
        warn_visible("a --db URL with a password", "TONGXIN_COUNTY_DB", "--db-file")
    return value


def _db_file(ctx: typer.Context, value: Path | None) -> Path | None:
    if value is None:
        return None
    url = read_secret_file(value, "--db-file")
    ctx.meta[FROM_FILE] = url
    if "db" in ctx.params:  # --db came first (or its default or environment did)
        if on_command_line(ctx, "db"):
            raise _both()
        ctx.params["db"] = url
    return value


DB_HELP = "Database URL (SQLite or PostgreSQL); with a password, rather TONGXIN_COUNTY_DB or --db-file."
Db = Annotated[str, typer.Option("--db", envvar="TONGXIN_COUNTY_DB", callback=_db, help=DB_HELP)]
OptionalDb = Annotated[
    str | None, typer.Option("--db", envvar="TONGXIN_COUNTY_DB", callback=_db, help=DB_HELP)
]
DbFile = Annotated[
    Path | None,
    typer.Option(
        "--db-file",
        envvar="TONGXIN_COUNTY_DB_FILE",
        callback=_db_file,
        help="Read the database URL from this file's first line (keep it 0600), instead of --db.",
    ),
]
