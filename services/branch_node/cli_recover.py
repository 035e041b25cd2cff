"""`tongxin node recover`: take the county's copy of this node's chain back after a restore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from services.branch_node import recover as r
from services.branch_node.cli_base import DataDir, fail, open_node, out
from services.branch_node.lock import NodeBusyError, exclusive


def register(app: typer.Typer) -> None:
    """Add this module's command to `app`."""
    app.command(
        epilog="Examples:\n\ntongxin node recover --dry-run -d ./tongxin-node\n\n"
        "tongxin node recover --yes -d ./tongxin-node --nats nats://county.example:4222"
    )(recover)


def recover(
    nats: Annotated[
        str | None,
        typer.Option(help="NATS URL; a cluster's comma-separated (default: the one given at init)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be done; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")] = False,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """After a restore from a backup: fetch this node's archived envelopes back from the county,
    verify them under this node's own key, restore them into the log, and record again, as new
    events after them, the local events that took seqs the county already held.

    Run it with `tongxin node serve` stopped, when the node's status, page or health says
    forwarding stopped because the county holds a history this log does not. Nothing typed at
    this node is lost: what collided is recorded again after a `node.recovered` event that lists
    it; what the recovered history makes impossible is written to a file in the data dir."""
    node = open_node(data_dir)
    try:
        with exclusive(data_dir, "recover"):
            url = nats or node.config.nats_url
            try:
                copy = asyncio.run(r.fetch(node, url))
                p = r.plan(node, copy)
            except r.RecoverError as exc:
                raise fail(str(exc), code=1) from None
            except Exception as exc:  # NATS unreachable, no county answering …
                raise fail(f"could not fetch the county's copy over {url}: {exc!r}", code=1) from None
            if p.fork_at is None:
                out.print(f"nothing to recover: the county holds seqs 1–{p.county_head} and this log agrees")
                return
            out.print(
                f"the county holds seqs 1–{p.county_head} of {node.node_id}; this log agrees up to "
                f"{p.fork_at - 1}. {len(p.restore)} envelope(s) will be restored from the county's copy; "
                f"{len(p.collided)} local event(s) took seqs it already held and will be recorded again "
                "as new events.",
                highlight=False,
            )
            if dry_run:
                return
            if not yes and not typer.confirm("recover now?"):
                raise typer.Exit(1)
            done = r.apply(node, p)
    except NodeBusyError as exc:
        raise fail(str(exc)) from None
    finally:
        node.close()
    out.print(
        f"restored {done.restored} envelope(s); recorded again: {len(done.recorded_again)}", highlight=False
    )
    if done.refused:
        out.print(
            f"{len(done.refused)} collided event(s) could not be recorded again (see {done.refused_file}):",
            highlight=False,
        )
        for seq, why in done.refused[:20]:
            out.print(f"  old seq {seq}: {why}", highlight=False)
    out.print("start the node again: it forwards from the recovered head", highlight=False)
