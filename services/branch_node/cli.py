"""`tongxin node …`: init, record, serve here; import in cli_import; status, rotate-key, verify and
receipts in cli_chain; forward in cli_forward; recover in cli_recover; backup and restore in
cli_backup; rekey and county-key in cli_keys; passwd and token in cli_clerk."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from services.branch_node import (
    cli_backup,
    cli_chain,
    cli_clerk,
    cli_forward,
    cli_import,
    cli_keys,
    cli_recover,
)
from services.branch_node.application import BatchError
from services.branch_node.clerk import Clerk
from services.branch_node.cli_base import DataDir, err, fail, open_node, out
from services.branch_node.config import NodeConfig, NodeDir, NodeExistsError
from services.branch_node.forwarder import REPAIR_GRACE
from services.branch_node.inputs import cell_value, parse_item, parse_json, set_dotted
from services.branch_node.lock import NodeBusyError, exclusive
from services.branch_node.service import NodeService
from shared.cli_version import add_version_option
from shared.credentials import WeakPasswordError, check_password_rules
from shared.errors import FieldError
from shared.ids import SLUG_PATTERN
from shared.signing import Verifier
from shared.wire import DEFAULT_NATS_URL

app = typer.Typer(
    help="A branch node: record events durably, with or without a network, and forward them to the county.",
    no_args_is_help=True,
)


@app.command(epilog="Example: tongxin node init --node-id dongguan --county-id jx --county-public-key HEX")
def init(
    node_id: Annotated[str, typer.Option(help="This node's id, a slug such as `dongguan`.")],
    county_id: Annotated[str, typer.Option(help="The county's id, a slug such as `jx`.")],
    county_secret: Annotated[
        str | None,
        typer.Option(
            envvar="TONGXIN_COUNTY_SECRET",
            help="Ignored: member ids are random now, and a node holds no county secret.",
            hidden=True,
        ),
    ] = None,
    data_dir: DataDir = Path("tongxin-node"),
    nats_url: Annotated[
        str, typer.Option(help="The county's NATS URL; a cluster's URLs comma-separated.")
    ] = DEFAULT_NATS_URL,
    county_public_key: Annotated[
        str | None,
        typer.Option(help="The county's receipt key (64 hex, from `county key`), to verify receipts."),
    ] = None,
    nats_ca: Annotated[
        Path | None,
        typer.Option(help="CA certificate of the NATS server's TLS certificate (for a tls:// URL)."),
    ] = None,
    clerk_password_file: Annotated[
        Path | None,
        typer.Option(
            help="Set the clerk's password from this file's first line; without it a one-time "
            "sign-in token is printed."
        ),
    ] = None,
) -> None:
    """Create a node: its Ed25519 key and NATS identity (mode 0600), its log and its key store
    (personal.db, 0600: its members' keys), and the clerk's sign-in (clerk.json, 0600): a
    one-time token, or the password of a file.

    Give the county the printed public key and NATS key: `tongxin county enrol-node` takes both."""
    if county_secret is not None:
        err.print(
            "--county-secret is ignored: a node no longer holds a county secret (member ids are random)"
        )
    password = None if clerk_password_file is None else cli_clerk.read_password_file(clerk_password_file)
    if password is not None:
        try:
            check_password_rules(password)
        except WeakPasswordError as exc:
            raise fail(f"--clerk-password-file: {exc}") from None
    if county_public_key is not None:
        try:
            Verifier.from_hex(county_public_key)
        except ValueError:
            raise fail("--county-public-key: must be 64 hex digits (an Ed25519 public key)") from None
    config = NodeConfig(
        node_id=node_id,
        county_id=county_id,
        nats_url=nats_url,
        county_public_key=county_public_key,
        nats_ca=None if nats_ca is None else str(nats_ca.resolve()),
    )
    try:
        msgspec.convert(msgspec.to_builtins(config), type=_Slugs)
        signer = NodeDir(data_dir).create(config)
    except NodeExistsError as exc:
        raise fail(str(exc)) from None
    except (FieldError, msgspec.ValidationError) as exc:
        raise fail(str(exc)) from None
    NodeService(data_dir).close()  # creates the log (WAL, synchronous=FULL)
    clerk = Clerk(data_dir)
    signin = None
    if password is not None:
        cli_clerk.set_password(clerk, password)
    else:
        signin = clerk.new_signin_token()
    out.print(f"node {node_id} created in {data_dir}")
    out.print(f"public key: {signer.public_key_hex}")
    out.print(f"key id:     {signer.key_id}")
    out.print(f"NATS key:   {NodeDir(data_dir).nats_key()}")
    out.print(
        f"enrol it at the county: tongxin county enrol-node {node_id} {signer.public_key_hex} "
        f"--nats-key {NodeDir(data_dir).nats_key()}",
        soft_wrap=True,
    )
    if county_public_key is None:
        out.print(
            "county_key: none (receipts unchecked): give this node the county's public key "
            "(`tongxin county key`) with `tongxin node county-key add HEX`",
            soft_wrap=True,
            highlight=False,
        )
    if signin is None:
        out.print(f"clerk:      the password of {clerk_password_file} signs in on the node's page")
    else:
        out.print(f"clerk sign-in token (one-time, shown once): {signin}", highlight=False)
        out.print(
            "  after `tongxin node serve`, open its page (http://127.0.0.1:8710/ by default), enter it "
            "as 一次性登录码 and choose a password (or set one now: tongxin node passwd)",
            soft_wrap=True,
        )


class _Slugs(msgspec.Struct):
    node_id: Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN)]
    county_id: Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN)]
    nats_url: str


@app.command(
    epilog="Examples:\n\n"
    "tongxin node record fund.received -f org_id=dongguan -f source=host_subsidy -f amount_fen=500000\n\n"
    'tongxin node record member.returned --json \'{"member_id": "…"}\' --occurred-at 2026-11-20'
)
def record(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="Event type, e.g. member.registered.")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="A payload field as key=value (dotted keys nest)."),
    ] = None,
    json_payload: Annotated[str | None, typer.Option("--json", help="The payload as a JSON object.")] = None,
    occurred_at: Annotated[
        str | None, typer.Option(help="When it happened (default now; no zone = CST).")
    ] = None,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Record one event in the node's log."""
    payload: dict[str, Any] = {}
    if json_payload is not None:
        try:
            payload = parse_json(json_payload, "--json")
        except FieldError as exc:
            raise fail(str(exc)) from None
        if not isinstance(payload, dict):
            raise fail("--json: the payload must be a JSON object")
    for item in field or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise fail(f"--field {item!r}: expected key=value")
        set_dotted(payload, key.strip(), cell_value(value))
    node = open_node(data_dir)
    try:
        new = parse_item(
            {"type": type_, "occurred_at": occurred_at, "payload": payload},
            node.keys,
            strict=json_payload is not None and not field,
        )
        (seq,) = node.record([new])
    except (FieldError, BatchError) as exc:
        raise fail(_reason(exc)) from None
    finally:
        node.close()
    out.print(f"recorded {type_} as seq {seq} (event {new.event_id})")


def _reason(exc: FieldError | BatchError) -> str:
    if isinstance(exc, BatchError):
        return "; ".join(str(e) for _, e in exc.errors)
    return str(exc)


@app.command(epilog="Example: tongxin node serve --port 8710 --nats nats://county.example:4222")
def serve(
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8710,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A name the node's page is reached by, beside 127.0.0.1, localhost, [::1] and --host "
            "(repeatable); requests naming another Host are refused.",
        ),
    ] = None,
    nats: Annotated[
        str | None,
        typer.Option(help="NATS URL; a cluster's comma-separated (default: the one given at init)."),
    ] = None,
    repair_grace: Annotated[
        float,
        typer.Option(
            "--repair-grace",
            min=0.1,
            help="Seconds the county's receipt may stand still while some sent are unconfirmed "
            "before those are sent again.",
        ),
    ] = REPAIR_GRACE,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Serve the local HTTP API and forward to the county until stopped (Ctrl-C / SIGTERM)."""
    from services.branch_node.serve import serve as run
    from shared.logs import configure

    configure()
    node = open_node(data_dir)
    try:
        with exclusive(data_dir, "serve"):
            asyncio.run(
                run(node, host, port, nats or node.config.nats_url, repair_grace, tuple(allowed_host or ()))
            )
    except NodeBusyError as exc:
        raise fail(str(exc)) from None
    finally:
        node.close()


add_version_option(app)
cli_chain.register(app)
cli_forward.register(app)
cli_recover.register(app)
cli_backup.register(app)
cli_keys.register(app)
cli_clerk.register(app)
cli_import.register(app)
