"""`tongxin node passwd` and `tongxin node token add|list|revoke`: the clerk's password and the bearer
tokens of programs, kept in the data dir's clerk.json (`clerk.py`). `node serve` sees a change at
the next request: no restart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.branch_node.clerk import Clerk, ClerkFileError
from services.branch_node.cli_base import DataDir, err, fail, out
from services.branch_node.config import NodeDir
from shared.credentials import WeakPasswordError

PASSWORD_FILE_HELP = "Read the password from this file's first line (for scripts), instead of asking."

tokens = typer.Typer(
    help="Bearer tokens for programs (`Authorization: Bearer …`): the demo, a soak, Prometheus.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command(
        epilog="Examples:\n\ntongxin node passwd -d ./tongxin-node\n\n"
        "tongxin node passwd --password-file /root/clerk.pass -d ./tongxin-node"
    )(passwd)
    app.add_typer(tokens, name="token")


def read_password_file(path: Path) -> str:
    """The first line of `path`, its line ending dropped (nothing else: spaces may be part of it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read the password ({exc})") from None
    return text.splitlines()[0] if text else ""


def clerk_of(data_dir: Path) -> Clerk:
    if not NodeDir(data_dir).exists():
        raise fail(f"no node in {data_dir}: run `tongxin node init` first (or pass --data-dir)")
    return Clerk(data_dir)


def set_password(clerk: Clerk, password: str) -> None:
    try:
        clerk.set_password(password)
    except WeakPasswordError as exc:
        raise fail(f"password: {exc}") from None
    except ClerkFileError as exc:
        raise fail(str(exc)) from None


def passwd(
    password_file: Annotated[Path | None, typer.Option(help=PASSWORD_FILE_HELP)] = None,
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Set the clerk's password for the outstation page (10 characters or more).

    Every session signed in before ends; an unused one-time sign-in token is dropped."""
    clerk = clerk_of(data_dir)
    if password_file is not None:
        password = read_password_file(password_file)
    else:
        password = typer.prompt("New password for the clerk", hide_input=True, confirmation_prompt=True)
    set_password(clerk, password)
    out.print(f"the clerk's password is set for the node in {data_dir}; sessions signed in before end")


@tokens.command("add", epilog="Example: tongxin node token add prometheus -d ./tongxin-node")
def add(
    name: Annotated[str, typer.Argument(help="What the token is for, a slug such as `prometheus`.")],
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Make a bearer token and print it, once: only its SHA-256 is kept."""
    clerk = clerk_of(data_dir)
    try:
        token = clerk.add_token(name)
    except (ValueError, ClerkFileError) as exc:
        raise fail(str(exc)) from None
    err.print(f"token {name!r} made; it is shown once, here (send it as `Authorization: Bearer <token>`):")
    out.print(token, highlight=False, markup=False)


@tokens.command("list")
def list_(data_dir: DataDir = Path("tongxin-node")) -> None:
    """The bearer tokens by name, with when each was made (never the tokens themselves)."""
    try:
        held = clerk_of(data_dir).state().tokens
    except ClerkFileError as exc:
        raise fail(str(exc)) from None
    for entry in held:
        out.print(f"{entry.name:<20} made {entry.created_at}", highlight=False, markup=False)
    if not held:
        err.print("no bearer tokens")


@tokens.command("revoke", epilog="Example: tongxin node token revoke prometheus -d ./tongxin-node")
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    data_dir: DataDir = Path("tongxin-node"),
) -> None:
    """Revoke a bearer token: a running `node serve` refuses it from the next request on."""
    try:
        found = clerk_of(data_dir).revoke_token(name)
    except ClerkFileError as exc:
        raise fail(str(exc)) from None
    if not found:
        raise fail(f"no token named {name!r}", code=1)
    out.print(f"token {name!r} revoked")
