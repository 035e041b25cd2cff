"""Audit commands (time): `replay` to a point in time and the live `digest`, on `tongxin audit`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from services.county.audit.replay import Bounds, Replayed, build
from services.county.cli_base import fail
from services.county.cli_options import Db, DbFile
from services.county.db.engine import DEFAULT_DB_URL, make_engine
from services.county.projections.digest import digest as projection_digest
from services.county.queries.archive import holds_archive
from services.county.queries.asof import KNOWN_AT, parse_point
from services.county.queries.digest import as_of_summary
from shared.errors import FieldError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Business time D: a date (end of that China day) or a time with a zone. Only events that "
        "occurred by D are replayed; prints the as-of digest (roster rows valid at D, their "
        "co-managers, facts by D).",
    ),
]
KnownAtOpt = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        help=KNOWN_AT + " Only that part of the archive is replayed.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _source(db: str) -> Engine:
    """The audited database, opened read-only in spirit: never migrated, never created."""
    if db.startswith("sqlite:///") and not Path(db.removeprefix("sqlite:///")).exists():
        raise fail(f"no database at {db}")
    engine = make_engine(db)
    try:
        has_archive = holds_archive(engine)
    except OperationalError as exc:
        engine.dispose()
        raise fail(f"cannot open {db}: {exc.orig}") from None
    if not has_archive:
        engine.dispose()
        raise fail(f"{engine.url.render_as_string(hide_password=True)} holds no county archive")
    return engine


def _bounds(as_of: str | None, known_at: str | None) -> Bounds:
    try:
        return Bounds(
            known_at=parse_point(known_at, "known_at").moment if known_at is not None else None,
            as_of=parse_point(as_of, "as_of").moment if as_of is not None else None,
        )
    except FieldError as exc:
        raise fail(f"--{exc.field.replace('_', '-')}: {exc.message}") from None


def _print(result: Replayed, into: str | None) -> None:
    b = result.bounds
    scope = ", ".join(
        part
        for part in (
            f"received by {b.known_at}" if b.known_at else "",
            f"occurred by {b.as_of}" if b.as_of else "",
        )
        if part
    )
    out.print(
        f"replayed {result.replayed} of {result.archived} archived event(s)"
        + (f" ({scope})" if scope else " (full replay)")
        + (f" into {into}" if into else ""),
        highlight=False,
    )
    out.print(f"digest       {result.digest}", highlight=False)
    if result.as_of_digest is not None:
        out.print(f"as-of digest {result.as_of_digest}", highlight=False)
    out.print("roster       " + _counts(result.roster), highlight=False)


def _counts(roster: dict[str, int]) -> str:
    return ", ".join(f"{status} {n}" for status, n in roster.items()) or "(empty)"


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""

    @app.command(
        "replay",
        epilog="Example: tongxin audit replay --db postgresql://county@db/tongxin "
        "--known-at 2026-03-05T18:00:00+08:00 --as-of 2026-03-04",
    )
    def replay(
        db: Db = DEFAULT_DB_URL,
        db_file: DbFile = None,
        as_of: AsOfOpt = None,
        known_at: KnownAtOpt = None,
        into: Annotated[
            str | None,
            typer.Option(
                "--into", help="Keep the replay in this (empty) database; default a temporary file."
            ),
        ] = None,
        as_json: Json = False,
    ) -> None:
        """Rebuild the projections from the archive up to a point in time and print their digest.

        Without --as-of and --known-at it is a full replay, whose digest equals `audit digest`."""
        bounds = _bounds(as_of, known_at)
        source = _source(db)
        columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("replay", total=None)
                scratch = build(
                    source, bounds, into, progress=lambda n, total: bar.update(task, completed=n, total=total)
                )
        except FieldError as exc:
            raise fail(f"--{exc.field}: {exc.message}") from None
        finally:
            source.dispose()
        result = scratch.result
        scratch.close()  # removes a temporary file; a database given with --into is kept
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        else:
            _print(result, into)

    @app.command(
        "digest",
        epilog="Example: tongxin audit digest --db postgresql://county@db/tongxin --as-of 2026-03-04",
    )
    def digest(
        db: Db = DEFAULT_DB_URL, db_file: DbFile = None, as_of: AsOfOpt = None, as_json: Json = False
    ) -> None:
        """Print the live projection digest (with --as-of, also the as-of digest read from the timeline)."""
        moment = _bounds(as_of, None).as_of
        source = _source(db)
        try:
            with source.connect() as conn:
                found: dict[str, Any] = {"digest": projection_digest(conn), **as_of_summary(conn, moment)}
        finally:
            source.dispose()
        if as_json:
            sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")
            return
        out.print(f"digest       {found['digest']}", highlight=False)
        if moment is not None:
            out.print(f"as-of digest {found['as_of_digest']} (as of {moment})", highlight=False)
        out.print("roster       " + _counts(found["roster"]), highlight=False)
