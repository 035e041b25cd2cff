"""`tongxin node status | rotate-key | verify | receipts`: the node's chain, its key, and the county's
receipts it holds."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from services.branch_node.cli_base import DataDir, err, fail, open_node, out
from services.branch_node.config import LOG_FILE, NodeDir
from services.branch_node.receipts import read_receipts
from services.branch_node.service import NodeStatus
from shared import receipt
from shared.nats_identity import NatsIdentity


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(epilog="Examples:\n\ntongxin node status\n\ntongxin node status --json | jq .confirmed_seq")(
        status
    )
    app.command("rotate-key", epilog="Example: tongxin node rotate-key")(rotate_key)
    app.command(epilog="Example: tongxin node verify")(verify)
    app.command(
        epilog="Examples:\n\ntongxin node receipts -d ./tongxin-node\n\n"
        "tongxin node receipts --json -d ./tongxin-node > dongguan-receipts.jsonl   "
        "# then: tongxin audit verify … --node-receipts dongguan-receipts.jsonl"
    )(receipts)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (every field, the fork too).")] = False,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """What the county has confirmed (its receipts), what is sent but unconfirmed, what waits to be
    sent; the last receipt, the last ack and whether NATS is reachable.

    Exit status: 0, or 3 on a fork, after printing the status all the same:
    the node's log and the county's receipts disagree, and forwarding
    has stopped until `tongxin node recover`."""
    node = open_node(data_dir)
    try:
        st = node.status()
        reachable = asyncio.run(_reachable(node.config.nats_url, node.dir.nats_identity()))
    finally:
        node.close()
    if as_json:
        shown = msgspec.to_builtins(st)
        shown.update(nats_url=node.config.nats_url, nats_reachable=reachable)
        sys.stdout.write(json.dumps(shown, ensure_ascii=False) + "\n")
    else:
        for label, value in _readable(st, node.config.nats_url, reachable):
            out.print(f"{label:>19}: {value}", highlight=False)
    if st.fork is not None:
        raise fail(
            f"forked at seq {st.fork.seq}: {st.fork.reason}; forwarding has stopped"
            " — ask the county's operators, then run `tongxin node recover`",
            code=3,
        )


def _readable(st: NodeStatus, nats_url: str, reachable: bool) -> list[tuple[str, str]]:
    """The status as lines a person reads: what the county has, then what it does not yet."""
    r = st.last_receipt
    receipt_line = "none yet"
    if r is not None:
        checks = ("verified" if r.verified else "not verified") + (
            "" if r.matches else ", DIFFERS from this log"
        )
        receipt_line = f"seq {r.seq}, issued {r.issued_at} ({checks})"
    backlog = (
        "0 (all reported)" if not st.backlog and st.fork is None else f"{st.backlog} (not in the county yet)"
    )
    lines = [
        ("node", f"{st.node_id} (county {st.county_id}, key {st.key_id})"),
        ("logged", f"up to seq {st.last_seq} (signed up to {st.signed_seq})"),
        ("confirmed by county", f"up to seq {st.confirmed_seq}"),
        ("sent", f"up to seq {st.forwarded_seq} (acknowledged by JetStream)"),
        ("backlog", backlog),
        ("sent, unconfirmed", str(st.unconfirmed)),
        ("waiting to be sent", str(st.waiting)),
        ("last ack", str(st.last_ack_at or "never")),
        ("last receipt", receipt_line),
        ("county_key", ", ".join(st.county_keys) if st.county_keys else "none (receipts unchecked)"),
        (
            "members' keys",
            f"{st.keys_undelivered} not delivered to the county yet"
            + ("" if st.county_keys or not st.keys_undelivered else " (no county key: none is sent)"),
        ),
        ("nats", f"{nats_url} ({'reachable' if reachable else 'unreachable'})"),
    ]
    if st.fork is not None:
        lines.append(("FORKED", f"at seq {st.fork.seq}: {st.fork.reason}"))
    return lines


async def _reachable(url: str, identity: NatsIdentity) -> bool:
    from shared.transport import connect

    try:
        nc = await connect(url, identity=identity, timeout=1)
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


def receipts(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print each receipt in its wire form, one JSON object per line (JSON Lines), "
            "as `tongxin audit verify --node-receipts` reads them.",
        ),
    ] = False,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """The county's receipts this node holds, in seq order.

    Each is the county's signed word that it had archived this node's chain up to that seq and
    hash. Reads log.db only, read-only (a copy of a data dir without the node's keys will do);
    with --json, prints nothing when none is held."""
    log_path = NodeDir(data_dir).log_path
    if not log_path.exists():
        raise fail(f"no node log in {data_dir} (no {LOG_FILE}): pass the node's --data-dir")
    try:
        held = read_receipts(log_path)
    except sqlite3.Error as exc:
        raise fail(f"{log_path}: {exc}") from None
    if as_json:
        sys.stdout.buffer.write(b"".join(receipt.encode(h.receipt) + b"\n" for h in held))
        return
    for h in held:
        r = h.receipt
        checks = ("verified" if h.verified else "NOT verified") + (
            ", matches this node's chain" if h.matches else ", DIFFERS from this node's chain"
        )
        out.print(
            f"seq {r.seq}  hash {r.hash[:16]}…  issued {r.issued_at}  county {r.county_id} key {r.key_id}"
            f"  ({checks})",
            highlight=False,
        )
    out.print(f"{len(held)} receipt(s)", highlight=False)
