"""Options the county's commands share: where the database and NATS are, who the county is (its id, its
receipt key, its NATS identity) and the ingest's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.county.cli_db import Db, DbFile, OptionalDb

__all__ = [
    "CountyId",
    "CountyKey",
    "Db",
    "DbFile",
    "MaxClockAhead",
    "Nats",
    "NatsAccess",
    "NatsCa",
    "NatsSeed",
    "OptionalDb",
    "PersonalKey",
    "RepairGrace",
]
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

Nats = Annotated[
    str, typer.Option("--nats", envvar="TONGXIN_NATS_URL", help="NATS URL; a cluster's URLs comma-separated.")
]
CountyId = Annotated[
    str, typer.Option("--county-id", envvar="TONGXIN_COUNTY_ID", help="The county's id, e.g. jx.")
]
RepairGrace = Annotated[
    float,
    typer.Option(
        "--repair-grace",
        min=0.1,
        help="Seconds a gap in a node's chain may stand before the county asks the node to re-send it.",
    ),
]
MaxClockAhead = Annotated[
    float,
    typer.Option(
        "--max-clock-ahead",
        envvar="TONGXIN_COUNTY_MAX_CLOCK_AHEAD",
        min=0.0,
        help="Seconds a node's clock may run ahead of the county's before its envelopes are "
        "quarantined as clock_skew.",
    ),
]
CountyKey = Annotated[
    Path,
    typer.Option(
        "--county-key", envvar="TONGXIN_COUNTY_KEY", help="The county's receipt key (created if missing)."
    ),
]
Worker = Annotated[
    int,
    typer.Option(
        "--worker",
        envvar="TONGXIN_COUNTY_WORKER",
        min=0,
        help="This ingest worker's number, 0 to --workers - 1 (docs/operations.md §17.5).",
    ),
]
Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        envvar="TONGXIN_COUNTY_WORKERS",
        min=1,
        help="Ingest workers sharing the county's nodes (PostgreSQL only above 1; the API then runs "
        "with `county serve --no-ingest`).",
    ),
]
Partitions = Annotated[
    int,
    typer.Option(
        "--partitions",
        envvar="TONGXIN_COUNTY_PARTITIONS",
        min=1,
        max=1024,
        help="Partitions of the county's nodes: the same on every worker, at least --workers.",
    ),
]
