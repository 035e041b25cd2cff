"""`tongxin province …`: the province's ingest, its read-only API, its own enrolment of the
counties' nodes and its tokens (docs/province.md)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from services.county.db.engine import make_engine
from services.province.access import ProvinceRole, Tokens
from services.province.api import create_app
from services.province.cli_keys import register as register_keys
from services.province.cli_options import DEFAULT_META, Counties, Meta, Template
from services.province.ingest import ProvinceIngest
from services.province.store import COUNTY_CACHE_KIB, DEFAULT_DB_TEMPLATE, ProvinceStore
from services.province.stream import PROVINCE_MAX_BYTES
from shared.errors import FieldError
from shared.nats_identity import ANONYMOUS, NatsIdentity

app = typer.Typer(help="The province above its counties: sources their streams, checks every chain.")
register_keys(app)


def _store(counties: list[str], template: str, cache_kib: int = COUNTY_CACHE_KIB) -> ProvinceStore:
    try:
        return ProvinceStore(template, counties, cache_kib)
    except FieldError as exc:
        typer.echo(f"error: --{exc.field.replace('_', '-')}: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command(
    epilog="Example: tongxin province ingest --county anhua --county baojing --nats nats://province:4223 "
    "--db-template 'postgresql://province@db/province_{county}'"
)
def ingest(
    county: Counties,
    nats: Annotated[str, typer.Option("--nats", envvar="TONGXIN_PROVINCE_NATS", help="The province's NATS.")],
    db_template: Template = DEFAULT_DB_TEMPLATE,
    nats_seed: Annotated[Path | None, typer.Option(help="The province's NATS user seed.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Stop when nothing is pending.")] = False,
    max_bytes: Annotated[
        int, typer.Option(min=2**20, help="TONGXIN_PROVINCE's size limit.")
    ] = PROVINCE_MAX_BYTES,
    cache_mib: Annotated[
        int,
        typer.Option(
            min=1, max=4096, help="Each county's SQLite page cache (MiB); every county's is open at once."
        ),
    ] = COUNTY_CACHE_KIB // 1024,
) -> None:
    """Make TONGXIN_PROVINCE source each county's stream, and ingest it: every signature and chain
    checked against the province's own enrolment, one database per county, no receipts."""
    store = _store(county, db_template, cache_mib * 1024)
    identity = ANONYMOUS if nats_seed is None else NatsIdentity.from_file(nats_seed)
    consumer = ProvinceIngest(store, nats, identity=identity, max_bytes=max_bytes)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await consumer.run(stop, once=once)

    try:
        asyncio.run(main())
    finally:
        store.close()
    typer.echo(", ".join(f"{k}: {v}" for k, v in sorted(consumer.counts.items())) or "nothing new")


@app.command(epilog="Example: tongxin province serve --county anhua --county baojing --port 8800")
def serve(
    county: Counties,
    db_template: Template = DEFAULT_DB_TEMPLATE,
    province_db: Meta = DEFAULT_META,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port.")] = 8800,
) -> None:
    """Serve the province's read-only API: figures and roster counts per county and in total."""
    store = _store(county, db_template)
    try:
        uvicorn.run(
            create_app(store, Tokens(make_engine(province_db))), host=host, port=port, log_config=None
        )
    finally:
        store.close()


@app.command(
    "enrol-node",
    epilog="Example: tongxin province enrol-node anhua dongguan 6d6da27e…57951   # the key the node "
    "printed at `node init`, from the node's own enrolment form, not from the county's database",
)
def enrol_node(
    county_id: Annotated[str, typer.Argument(help="The node's county.")],
    node_id: Annotated[str, typer.Argument(help="The node's id.")],
    public_key: Annotated[str, typer.Argument(help="Its first Ed25519 public key (64 hex).")],
    db_template: Template = DEFAULT_DB_TEMPLATE,
    org: Annotated[list[str] | None, typer.Option("--org", help="An organisation it speaks for.")] = None,
    office: Annotated[bool, typer.Option("--office", help="The county office's node.")] = False,
    from_seq: Annotated[
        int | None,
        typer.Option("--from-seq", min=1, help="After `province revoke-key`: its new key from this seq."),
    ] = None,
) -> None:
    """Enrol a county's node at the province: the key its envelopes are checked against here."""
    store = _store([county_id], db_template)
    try:
        if from_seq is None:
            key_id = store.enrol(county_id, node_id, public_key, org_ids=org, office=office or None)
        else:
            key_id = store.reenrol(county_id, node_id, public_key, from_seq)
    except FieldError as exc:
        typer.echo(f"error: {exc.field}: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        store.close()
    typer.echo(f"enrolled {county_id}/{node_id} (key {key_id})")


@app.command(
    "token", epilog="Example: tongxin province token wang --role province_analyst   # prints the token once"
)
def token(
    name: Annotated[str, typer.Argument(help="Who the token is for.")],
    role: Annotated[ProvinceRole, typer.Option(help="What it may read.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="Valid for this many days.")] = 90,
    province_db: Meta = DEFAULT_META,
) -> None:
    """Make a bearer token for the province's API (shown once; only its digest is kept)."""
    typer.echo(Tokens(make_engine(province_db)).add(name, role, days))
