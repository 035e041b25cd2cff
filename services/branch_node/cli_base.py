"""What every `tongxin node …` command shares: the --data-dir option, the consoles, opening the node
and failing with a message."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from services.branch_node.config import NodeNotFoundError
from services.branch_node.service import NodeService

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        "-d",
        envvar="TONGXIN_NODE_DIR",
        help="The node's data dir.",
        show_default=True,
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print the message as an error; raise what it returns to exit with `code`. The message is
    never read as markup: it may quote what a clerk typed (`[/]` would crash rich)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def open_node(data_dir: Path) -> NodeService:
    try:
        return NodeService(data_dir)
    except NodeNotFoundError as exc:
        raise fail(str(exc)) from None
