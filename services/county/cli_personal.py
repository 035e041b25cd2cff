"""`tongxin county personal-key rotate`: a new master key for members' personal data
(`personal.rotation`; docs/operations.md, "The personal-data master key")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from services.county.cli_options import Db, DbFile, PersonalKey
from services.county.db.engine import DEFAULT_DB_URL, make_engine
from services.county.keys import DEFAULT_COUNTY_KEY
from services.county.personal import rotation
from services.county.personal.master import MasterKeyError, default_path

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

personal_key_app = typer.Typer(help="The master key of members' personal data.", no_args_is_help=True)


@personal_key_app.command(
    "rotate",
    epilog="Example: tongxin county personal-key rotate --db postgresql://county@db/tongxin "
    "--personal-key /etc/tongxin/tongxin-county-personal.key",
)
def rotate(
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
    personal_key: PersonalKey = None,
    county_key: Annotated[
        Path,
        typer.Option("--county-key", envvar="TONGXIN_COUNTY_KEY", help="The county's receipt key file."),
    ] = DEFAULT_COUNTY_KEY,
) -> None:
    """Wrap every member key again under a new master key (one transaction) and rebuild the
    identity index under it. Stop `county serve` first. The old key stays as <key>.old: back up
    the new key, then delete the old one. Run again to finish a rotation that was interrupted."""
    path = personal_key or default_path(county_key)
    engine = make_engine(db)
    try:
        done = rotation.rotate(engine, path)
    except MasterKeyError as exc:
        err.print(f"error: --personal-key: {exc}", markup=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if done.resumed:
        out.print(done.resumed, markup=False)
    out.print(
        f"rotated {path}: {done.rewrapped} member key(s) wrapped again, {done.reindexed} indexed",
        markup=False,
    )
    out.print(f"the old key is {done.old}: back up {path} now, then delete {done.old}", markup=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(personal_key_app, name="personal-key")
