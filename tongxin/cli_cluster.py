"""`tongxin nats-access` and `tongxin nats-streams`: what a NATS cluster of plain nats-servers
(deploy/nats/county-cluster.conf, deploy/compose.yaml) needs that `tongxin nats` does by itself —
the access directory its servers include, and the streams made with replicas."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from shared.nats_access import AccessDir
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.streams import ensure_refs_bucket, ensure_streams_on
from shared.transport import connect


def nats_access(
    path: Annotated[
        Path, typer.Option("--dir", help="The access directory (its servers include its users.conf).")
    ],
) -> None:
    """Create a NATS access directory if missing: county.seed, operator.seed (0600) and users.conf
    (only the county, the operator and enrolled nodes may connect). Existing seeds are kept."""
    access = AccessDir(path)
    access.ensure()
    typer.echo(
        f"access: {access.path} — include {access.users_file} in every server's config; the county connects "
        f"with --nats-seed {access.seed_path('county')}, the operator with {access.seed_path('operator')}"
    )


def nats_streams(
    nats: Annotated[str, typer.Option("--nats", envvar="TONGXIN_NATS_URL", help="NATS URL.")],
    replicas: Annotated[
        int, typer.Option(min=1, max=5, help="Replicas of each stream (3 on a 3-server cluster).")
    ],
    nats_seed: Annotated[
        Path | None,
        typer.Option("--nats-seed", help="The operator's seed (operator.seed of the access directory)."),
    ] = None,
    nats_ca: Annotated[
        Path | None, typer.Option("--nats-ca", help="CA of the NATS server's TLS certificate.")
    ] = None,
) -> None:
    """Create the TONGXIN and TONGXIN_RECEIPTS streams with these replicas, or bring existing ones to
    them, and the reference bucket TONGXIN_REFS if missing, as the operator (the county then keeps
    the replicas it finds)."""
    identity = NatsIdentity.from_file(nats_seed, ca_file=nats_ca) if nats_seed else ANONYMOUS
    asyncio.run(_ensure(nats, replicas, identity))
    typer.echo(f"streams TONGXIN, TONGXIN_RECEIPTS and bucket TONGXIN_REFS ready with {replicas} replica(s)")


async def _ensure(url: str, replicas: int, identity: NatsIdentity) -> None:
    nc = await connect(url, identity=identity, timeout=5)
    try:
        js = nc.jetstream()
        await ensure_streams_on(js, replicas, timeout=60)
        await ensure_refs_bucket(js, replicas)
    finally:
        await nc.close()


def register(app: typer.Typer) -> None:
    app.command("nats-access", epilog="Example: tongxin nats-access --dir /var/lib/tongxin/nats/access")(
        nats_access
    )
    app.command(
        "nats-streams",
        epilog="Example: tongxin nats-streams --nats tls://county-n1:4222 --replicas 3 "
        "--nats-seed /var/lib/tongxin/nats/access/operator.seed --nats-ca /etc/tongxin/tls/ca.pem",
    )(nats_streams)
