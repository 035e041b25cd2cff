"""The `tongxin` console script: one entry point for every part."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from services.branch_node.cli import app as node_app
from tongxin.natsd import DEFAULT_PORT, EmbeddedNats, NatsServerError, ensure_stream

app = typer.Typer(
    help="Tongxin (同心): mobile Party members' records, from branch nodes to the county, auditable.",
    no_args_is_help=True,
)
app.add_typer(node_app, name="node")


@app.command(epilog="Example: tongxin nats --port 4223 --store-dir ./tongxin-data/nats")
def nats(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Client port (0 picks a free one).")] = DEFAULT_PORT,
    store_dir: Annotated[Path, typer.Option(help="JetStream store directory.")] = Path("tongxin-data/nats"),
) -> None:
    """Run the embedded nats-server with JetStream and the TONGXIN stream, until Ctrl-C or SIGTERM."""
    server = EmbeddedNats(store_dir, host, port)
    try:
        url = server.start()
        asyncio.run(ensure_stream(url))
    except NatsServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    streams = "streams TONGXIN and TONGXIN_RECEIPTS ready"
    typer.echo(f"NATS with JetStream listening on {url} (store {store_dir}); {streams}")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and server.proc is not None and server.proc.poll() is None:
            time.sleep(0.2)
    finally:
        server.stop()
    typer.echo("NATS stopped")


def main() -> None:
    # the county stack (SQLAlchemy, Alembic) is loaded only for county commands, so that a
    # branch node's processes stay small
    if "county" in sys.argv[1:2]:
        from services.county.cli import app as county_app

        app.add_typer(county_app, name="county")
    else:
        app.add_typer(typer.Typer(help="The county service (run `tongxin county --help`)."), name="county")
    if "audit" in sys.argv[1:2]:
        from services.county.audit.cli import app as audit_app

        app.add_typer(audit_app, name="audit")
    else:
        app.add_typer(typer.Typer(help="Auditing (run `tongxin audit --help`)."), name="audit")
    app()
