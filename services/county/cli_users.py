"""`tongxin county user …`: the accounts that may use the county's API and dashboard.

Run where the database is, by whoever runs the service (the operator's CLI: it has no HTTP
route). Passwords are asked twice on the terminal, or read from a file (`--password-file`, first
line) for scripts; never from the command line, where `ps` and the shell history would keep them.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.county.accounts.roles import ROLE_NAMES, Role
from services.county.accounts.store import TOKEN_DAYS, AccountError, Accounts, TokenKind
from services.county.cli_base import fail
from services.county.cli_options import Db, DbFile
from services.county.db.engine import DEFAULT_DB_URL, make_engine, migrate
from shared.cli_tables import print_table
from shared.credentials import WeakPasswordError, check_password_rules

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
users = typer.Typer(
    help="Accounts of the county's API and dashboard: roles, passwords, tokens.", no_args_is_help=True
)

Username = Annotated[str, typer.Argument(help="The account's name (letters, digits, - and _).")]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from this file's first line (for scripts)."),
]


def _accounts(db: str) -> Accounts:
    engine = make_engine(db)
    migrate(engine)
    return Accounts(engine)


def _password(path: Path | None) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise fail(f"--password-file: {exc.strerror or exc}") from None
        password = lines[0] if lines else ""
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise fail("the two passwords differ")
    try:
        check_password_rules(password)
    except WeakPasswordError as exc:
        raise fail(f"password: {exc}") from None
    return password


@users.command("add", epilog="Example: tongxin county user add wang --role township_officer --township lt")
def add(
    username: Username,
    role: Annotated[Role, typer.Option("--role", help="analyst, township_officer, auditor or operator.")],
    township: Annotated[str | None, typer.Option("--township", help="A township officer's township.")] = None,
    password_file: PasswordFile = None,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
) -> None:
    """Add an account with a role (a township officer with their township)."""
    accounts = _accounts(db)
    try:
        accounts.add(username, role, _password(password_file), township)
    except AccountError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    scope = f" of township {township}" if township else ""
    out.print(f"account {username} added: {role.value} ({ROLE_NAMES[role]}){scope}", markup=False)


@users.command("passwd", epilog="Example: tongxin county user passwd wang")
def passwd(
    username: Username, password_file: PasswordFile = None, db: Db = DEFAULT_DB_URL, db_file: DbFile = None
) -> None:
    """Set an account's password; its sessions and tokens end."""
    accounts = _accounts(db)
    try:
        accounts.set_password(username, _password(password_file))
    except AccountError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    out.print(f"password of {username} changed; its sessions and tokens ended", markup=False)


@users.command("disable", epilog="Example: tongxin county user disable wang")
def disable(username: Username, db: Db = DEFAULT_DB_URL, db_file: DbFile = None) -> None:
    """Disable an account at once: its sessions and tokens end, it cannot sign in."""
    _switch(username, db, disabled=True)


@users.command("enable", epilog="Example: tongxin county user enable wang")
def enable(username: Username, db: Db = DEFAULT_DB_URL, db_file: DbFile = None) -> None:
    """Enable a disabled account again (with the password it had)."""
    _switch(username, db, disabled=False)


def _switch(username: str, db: str, *, disabled: bool) -> None:
    try:
        _accounts(db).set_disabled(username, disabled)
    except AccountError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    out.print(f"account {username} {'disabled' if disabled else 'enabled'}", markup=False)


@users.command("list", epilog="Example: tongxin county user list")
def list_accounts(db: Db = DEFAULT_DB_URL, db_file: DbFile = None) -> None:
    """Every account: role, township, whether disabled, live sessions and tokens."""
    table = Table("username", "role", "township", "disabled", "sessions", "tokens", "changed")
    for a in _accounts(db).list():
        table.add_row(
            str(a["username"]),
            str(a["role"]),
            str(a["township"] or ""),
            "yes" if a["disabled"] else "",
            str(a["sessions"]),
            str(a["tokens"]),
            str(a["changed_at"])[:19],
        )
    print_table(out, table)


@users.command("token", epilog="Example: tongxin county user token audit-bot --label nightly-verify")
def token(
    username: Username,
    label: Annotated[str, typer.Option("--label", help="What the token is for (revoke by it).")] = "",
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="Days until it expires.")] = TOKEN_DAYS,
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
) -> None:
    """Make a bearer token for a script acting as the account; printed once, stored as a digest."""
    try:
        issued = _accounts(db).issue(username, TokenKind.BEARER, label, days)
    except AccountError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    err.print(f"bearer token for {username} (expires {issued.expires_at[:10]}); shown once:", markup=False)
    out.print(issued.token, markup=False)


@users.command("revoke-token", epilog="Example: tongxin county user revoke-token audit-bot --label nightly")
def revoke_token(
    username: Username,
    label: Annotated[str, typer.Option("--label", help="The label the token was made with.")],
    db: Db = DEFAULT_DB_URL,
    db_file: DbFile = None,
) -> None:
    """Revoke the account's bearer tokens with that label."""
    gone = _accounts(db).revoke_label(username, label)
    if not gone:
        raise fail(f"--label: {username} has no token labelled {label!r}")
    out.print(f"{gone} token(s) of {username} revoked", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="user")
