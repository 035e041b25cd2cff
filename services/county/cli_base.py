"""What every `tongxin county …` command shares: failing with a message, and the county's database
opened and migrated."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate

err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print the message as an error; raise what it returns to exit with `code`. The message is
    never read as markup: it may quote a path, a file's cell or what a sender sent (`[/]` in it
    would crash rich)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def open_engine(db: str) -> Engine:
    """The database at `db`, migrated to the newest revision."""
    engine = make_engine(db)
    migrate(engine)
    return engine
