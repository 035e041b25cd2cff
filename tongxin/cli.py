"""The `tongxin` console script: one entry point for every part."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from services.branch_node.cli import app as node_app
from shared.cli_version import VersionOption
from tongxin.cli_cluster import register as register_cluster
from tongxin.failures import debug_requested, run_reporting
from tongxin.natsd import DEFAULT_PORT, EmbeddedNats, NatsServerError, Tls, ensure_stream
from tongxin.natsd_cluster import EmbeddedCluster

app = typer.Typer(
    help="Tongxin (同心): mobile Party members' records, from branch nodes to the county, auditable.\n\n"
    "Expected failures (database or NATS unreachable, a missing file, a refused key) print one "
    "line and exit 1; `tongxin --debug …` or TONGXIN_DEBUG=1 shows the traceback.",
    no_args_is_help=True,
)
app.add_typer(node_app, name="node")
register_cluster(app)


@app.callback()
def _root(version: VersionOption = False) -> None:
    """The options every command inherits (`--version`)."""


@app.command(
    epilog="Examples:\n\ntongxin nats --port 4223 --store-dir ./tongxin-data/nats\n\n"
    "tongxin nats --tls-cert server.pem --tls-key server-key.pem   # clients then use tls://\n\n"
    "tongxin nats --cluster --port 4223   # three servers on 4223-4225, streams with 3 replicas"
)
def nats(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Client port (0 picks a free one); with --cluster, the first of three.")
    ] = DEFAULT_PORT,
    store_dir: Annotated[Path, typer.Option(help="JetStream store directory.")] = Path("tongxin-data/nats"),
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) of the client port.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Its private key (PEM).")] = None,
    tls_ca: Annotated[
        Path | None, typer.Option(help="A CA (PEM): clients must then present a certificate it signed.")
    ] = None,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="Three servers as one JetStream cluster, for a local trial.")
    ] = False,
    route_ca: Annotated[
        Path | None,
        typer.Option(help="With --cluster and TLS: the CA that signed the servers' certificates (routes)."),
    ] = None,
) -> None:
    """Run the embedded nats-server with JetStream and the TONGXIN streams, until Ctrl-C or SIGTERM.

    Only the users of its access directory (<store-dir>/access) may connect: the county
    (county.seed), the operator (operator.seed) and each node enrolled with its NATS key. With
    --cluster, three servers (stores <store-dir>/n1, n2, n3) share that directory, their routes
    take a password of their own (and TLS with --tls-cert), and the streams have 3 replicas."""
    if (tls_cert is None) != (tls_key is None):
        typer.echo("error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(2)
    tls = None if tls_cert is None or tls_key is None else Tls(tls_cert, tls_key, tls_ca)
    try:
        if cluster:
            servers = _start_cluster(host, port, store_dir, tls, route_ca)
        else:
            servers = _start_one(host, port, store_dir, tls)
    except NatsServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and servers.running():
            time.sleep(0.2)
    finally:
        servers.stop()
    typer.echo("NATS stopped")


def _reload_on_hup(*servers: EmbeddedNats) -> None:
    """`systemctl reload tongxin-nats`: each server reloads its users (never a restart). Set before
    the URLs are printed: from then on a reload is safe."""

    def reload(*_: object) -> None:
        for server in servers:
            if server.proc is not None and server.proc.poll() is None:
                server.proc.send_signal(signal.SIGHUP)

    signal.signal(signal.SIGHUP, reload)


def _start_one(host: str, port: int, store_dir: Path, tls: Tls | None) -> _Running:
    server = EmbeddedNats(store_dir, host, port, tls=tls)
    _reload_on_hup(server)
    try:
        url = server.start()
        asyncio.run(ensure_stream(url, identity=server.identity("operator")))
    except BaseException:
        server.stop()
        raise
    streams = "streams TONGXIN and TONGXIN_RECEIPTS ready"
    typer.echo(f"NATS with JetStream listening on {url} (store {store_dir}); {streams}")
    assert server.access is not None
    typer.echo(
        f"access: {server.access.path} — the county connects with --nats-seed "
        f"{server.access.seed_path('county')}, the operator with {server.access.seed_path('operator')}; "
        f"nodes once enrolled: tongxin county enrol-node … --nats-key U… --nats-access {server.access.path}"
    )
    return _Running(lambda: server.proc is not None and server.proc.poll() is None, server.stop)


def _start_cluster(host: str, port: int, store_dir: Path, tls: Tls | None, ca: Path | None) -> _Running:
    servers = EmbeddedCluster(
        store_dir, host, [port, port + 1, port + 2] if port else [], tls=tls, route_ca=ca
    )
    _reload_on_hup(*servers.servers.values())
    try:
        servers.start()
        servers.ensure_streams(replicas=3)
    except BaseException:
        servers.stop()
        raise
    listening = ", ".join(f"{n} {s.url}" for n, s in servers.servers.items())
    typer.echo(f"NATS cluster with JetStream listening on {listening} (stores under {store_dir});")
    typer.echo("streams TONGXIN and TONGXIN_RECEIPTS ready with 3 replicas")
    assert servers.access is not None
    typer.echo(
        f"give the county and every node all three: tongxin county serve --nats {servers.url} "
        f"--nats-seed {servers.access.seed_path('county')}; tongxin node init … --nats-url {servers.url}"
    )
    typer.echo(
        f"access: {servers.access.path} (one for all three; the operator: "
        f"{servers.access.seed_path('operator')}) — nodes once enrolled: tongxin county enrol-node … "
        f"--nats-key U… --nats-access {servers.access.path} (all three reload)"
    )
    return _Running(lambda: bool(servers.reap()), servers.stop)


@dataclass(frozen=True)
class _Running:
    """What `tongxin nats` started: whether it still runs, and how to stop it."""

    running: Callable[[], bool]
    stop: Callable[[], None]


@app.command(
    epilog="Examples:\n\ntongxin demo\n\ntongxin demo --members 500 --rate 5 --data-dir /tmp/county --port 0"
)
def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its state; a second run resumes.")
    ] = Path("tongxin-demo"),
    members: Annotated[int, typer.Option(min=10, max=20_000, help="Mobile members in the history.")] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the simulated history (same seed, same county).")] = 2026,
    rate: Annotated[float, typer.Option(min=0, help="Live events per second after loading (0: none).")] = 2.0,
    port: Annotated[int, typer.Option(help="County port; node i uses port+10+i; 0 picks free ports.")] = 8700,
    host: Annotated[str, typer.Option(help="Bind address of every service.")] = "127.0.0.1",
    offline_every: Annotated[
        float, typer.Option(min=0, help="Seconds between simulated outages of a node (0: none).")
    ] = 90.0,
    offline_for: Annotated[float, typer.Option(min=1, help="How long an outage lasts, in seconds.")] = 30.0,
    duration: Annotated[
        float | None, typer.Option(min=0, help="Stop after this many seconds live (default: until Ctrl-C).")
    ] = None,
) -> None:
    """The whole county on one machine: NATS, the county service and dashboard, and the branch
    nodes of its outstations, with a simulated history and live events, until Ctrl-C."""
    from tongxin.demo.cli import run_demo
    from tongxin.demo.run import Settings

    settings = Settings(data_dir, seed, members, rate, host, port, offline_every, offline_for, duration)
    raise typer.Exit(run_demo(settings))


def main() -> None:
    debug = debug_requested(sys.argv)
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
    if "province" in sys.argv[1:2]:
        from services.province.cli import app as province_app

        app.add_typer(province_app, name="province")
    else:
        app.add_typer(
            typer.Typer(help="The province above its counties (run `tongxin province --help`)."),
            name="province",
        )
    run_reporting(app, debug)
