"""Options the county's commands share: where the database is, and who the county is to NATS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.county.cli_db import Db, DbFile, OptionalDb

__all__ = ["Db", "DbFile", "NatsAccess", "NatsCa", "NatsSeed", "OptionalDb", "PersonalKey"]
NatsSeed = Annotated[
    Path | None,
    typer.Option(
        "--nats-seed",
        envvar="TONGXIN_NATS_SEED",
        help="The county's NATS user seed (county.seed in the server's access directory).",
    ),
]
NatsCa = Annotated[
    Path | None,
    typer.Option("--nats-ca", envvar="TONGXIN_NATS_CA", help="CA of the NATS server's TLS certificate."),
]
NatsAccess = Annotated[
    Path | None,
    typer.Option(
        "--nats-access",
        envvar="TONGXIN_NATS_ACCESS",
        help="The NATS server's access directory (`<store>/access` of `tongxin nats`), whose user "
        "list grants or revokes a node; on a cluster, each server's.",
    ),
]
PersonalKey = Annotated[
    Path | None,
    typer.Option(
        "--personal-key",
        envvar="TONGXIN_COUNTY_PERSONAL_KEY",
        help="The master key of members' personal data (made 0600 on first use; default: "
        "tongxin-county-personal.key beside the county key). Keep it outside the database and its backups.",
    ),
]
