"""`tongxin node status | rotate-key | verify`: the node's chain and its key."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from services.branch_node.cli_base import DataDir, err, fail, open_node, out


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(epilog="Example: tongxin node status --json")(status)
    app.command("rotate-key", epilog="Example: tongxin node rotate-key")(rotate_key)
    app.command(epilog="Example: tongxin node verify")(verify)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Last seq, forwarded seq, backlog, last ack time and NATS connectivity."""
    node = open_node(data_dir)
    try:
        st = msgspec.to_builtins(node.status())
        st["nats_url"] = node.config.nats_url
        st["nats_reachable"] = asyncio.run(_reachable(node.config.nats_url))
    finally:
        node.close()
    if as_json:
        sys.stdout.write(json.dumps(st, ensure_ascii=False) + "\n")
        return
    for key, value in st.items():
        out.print(f"{key:>15}: {value}", highlight=False)


async def _reachable(url: str) -> bool:
    from shared.transport import connect

    try:
        nc = await connect(url, timeout=1)
    except Exception:
        return False
    await nc.close()
    return True


def rotate_key(data_dir: DataDir = Path("tongxin-node")) -> None:
    """Rotate the signing key inside the chain: a node.key_rotated event, signed by the current
    key, names a new key (saved under keys/, mode 0600) that signs everything after it."""
    node = open_node(data_dir)
    try:
        old = node.signer.key_id
        new = node.rotate_key()
    finally:
        node.close()
    out.print(f"key {old} → {new.key_id}; public key {new.public_key_hex}")
    out.print("the county learns the new key from the chain itself: no re-enrolment needed")


def verify(data_dir: DataDir = Path("tongxin-node")) -> None:
    """Check the node's own chain, signatures, and that every envelope matches its logged event."""
    node = open_node(data_dir)
    try:
        node.sign_pending()
        report = node.verify()
    finally:
        node.close()
    for fault in report.faults[:50]:
        err.print(str(fault), highlight=False)
    if not report.ok:
        raise fail(f"{len(report.faults)} fault(s) in {report.checked} envelope(s)", code=1)
    out.print(f"ok: {report.checked} envelope(s), chain and signatures verify")
