"""`--version` on `tongxin` and on each of its command groups (`tongxin node --version`, …)."""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Annotated

import typer


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"tongxin {package_version('tongxin')}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
]


def add_version_option(app: typer.Typer) -> None:
    """Give `app` (a command group) a `--version` of its own."""

    @app.callback()
    def _version(version: VersionOption = False) -> None:
        pass
