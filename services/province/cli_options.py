"""Options the province's commands share: its counties, their databases, its own database."""

from __future__ import annotations

from typing import Annotated

import typer

Counties = Annotated[
    list[str],
    typer.Option("--county", help="A county of the province (repeatable): its id, as its nodes have it."),
]
Template = Annotated[
    str,
    typer.Option(
        "--db-template", envvar="TONGXIN_PROVINCE_DB", help="Each county's database URL, with {county} in it."
    ),
]
Meta = Annotated[
    str,
    typer.Option(
        "--province-db", envvar="TONGXIN_PROVINCE_META_DB", help="The province's own database (tokens)."
    ),
]
DEFAULT_META = "sqlite:///province-data/province.db"
