"""`tongxin node rekey` and `tongxin node county-key show|add|set`: this node's side of the key lifecycle.

`rekey` gives the node a new signing key from a seq on after the county revoked its keys
(`services/branch_node/rekey.py`); `county-key` says which county keys the node checks receipts
and re-send requests with (`services/branch_node/county_trust.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.branch_node.cli_base import DataDir, fail, open_node, out
from services.branch_node.lock import NodeBusyError, exclusive
from services.branch_node.rekey import rekey
from shared.errors import FieldError

county_key_app = typer.Typer(
    help="The county keys this node checks receipts with (adopted by itself when the county rotates).",
    no_args_is_help=True,
)
PublicKey = Annotated[
    str, typer.Argument(metavar="HEX", help="The county's public key (64 hex, `tongxin county key`).")
]


def rekey_command(
    from_seq: Annotated[
        int, typer.Option("--from-seq", min=1, help="The seq the county revoked this node's keys from.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")] = False,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """After the county revoked this node's keys from a seq (`tongxin county revoke-key`): make a
    new key that signs from that seq on, and sign this node's envelopes from there again with it
    (same events, same hashes); they are forwarded again. Run it with `node serve` stopped, then
    give the county the printed public key (`tongxin county enrol-node NODE KEY --from-seq N`)."""
    node = open_node(data_dir)
    try:
        with exclusive(data_dir, "rekey"):
            signed = node.envelopes.head()[0]
            out.print(
                f"{node.node_id}: a new key will sign from seq {from_seq}; "
                f"{max(signed - from_seq + 1, 0)} envelope(s) will be signed again",
                highlight=False,
            )
            if not yes and not typer.confirm("rekey now?"):
                raise typer.Exit(1)
            done = rekey(node, from_seq)
    except NodeBusyError as exc:
        raise fail(str(exc)) from None
    except FieldError as exc:
        raise fail(str(exc)) from None
    finally:
        node.close()
    out.print(f"key {done.key.key_id} signs from seq {from_seq}; public key {done.key.public_key_hex}")
    out.print(f"{done.resigned} envelope(s) signed again; they are forwarded at the next `node serve`")
    command = f"tongxin county enrol-node {node.node_id} {done.key.public_key_hex} --from-seq {from_seq}"
    out.print(f"at the county: {command}", highlight=False)


@county_key_app.command("show", epilog="Example: tongxin node county-key show")
def show(data_dir: DataDir = Path("tongxin-node")) -> None:
    """The county keys this node trusts, and how each came."""
    node = open_node(data_dir)
    try:
        keys = node.county_trust.trusted()
    finally:
        node.close()
    if not keys:
        out.print("county_key: none (receipts unchecked)")
    for k in keys:
        until = f", handed over until {k.handed_over_until}" if k.handed_over_until else ""
        out.print(f"{k.key_id}  {k.public_key}  ({k.source}{until})", highlight=False)


@county_key_app.command("add", epilog="Example: tongxin node county-key add 3b6a27bc…f1e2")
def add(public_key: PublicKey, data_dir: DataDir = Path("tongxin-node")) -> None:
    """Trust this county key too (e.g. a node made without --county-public-key). A running
    `node serve` takes it at the next receipt; a key already trusted is left as it is."""
    _change(data_dir, public_key, replace=False)


@county_key_app.command("set", epilog="Example: tongxin node county-key set 3b6a27bc…f1e2")
def set_key(public_key: PublicKey, data_dir: DataDir = Path("tongxin-node")) -> None:
    """Trust this county key alone, forgetting every other (after the county's key was
    compromised and rotated with --compromised); nothing changes when it is trusted alone already."""
    _change(data_dir, public_key, replace=True)


def _change(data_dir: Path, public_key: str, *, replace: bool) -> None:
    node = open_node(data_dir)
    try:
        key, changed = node.county_trust.add(public_key, replace=replace)
        keys = node.county_trust.trusted()
    except FieldError as exc:
        raise fail(f"HEX: {exc.message}") from None
    finally:
        node.close()
    said = "trusts" if changed else "already trusts"
    out.print(f"{said} county key {key.key_id}" + ("" if replace else f" (of {len(keys)})"), highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("rekey", epilog="Example: tongxin node rekey --from-seq 4213")(rekey_command)
    app.add_typer(county_key_app, name="county-key")
