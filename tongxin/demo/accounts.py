"""The demo county's accounts: one per role, so that the demo shows the real sign-in.

Made on the first run with random passwords, kept in `county-accounts.json` (mode 0600) beside
the demo's other state so that a second run signs in the same way; the county itself keeps only
their Argon2id hashes. A production county has no such file: its operator adds accounts with
`tongxin county user add`, passwords typed by their owners.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine

from services.county.accounts.roles import ROLE_NAMES, Role
from services.county.accounts.store import AccountError, Accounts, TokenKind
from tongxin.demo.county import TOWNSHIPS

ACCOUNTS_FILE = "county-accounts.json"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    township: str | None = None

    def line(self) -> str:
        scope = f"，{self.township}" if self.township else ""
        return f"{self.username} / {self.password}  ({ROLE_NAMES[Role(self.role)]}{scope})"


def _planned() -> list[DemoAccount]:
    township = TOWNSHIPS[0][0]
    return [
        DemoAccount("analyst", Role.ANALYST.value, secrets.token_urlsafe(12)),
        DemoAccount(f"officer-{township}", Role.TOWNSHIP_OFFICER.value, secrets.token_urlsafe(12), township),
        DemoAccount("auditor", Role.AUDITOR.value, secrets.token_urlsafe(12)),
        DemoAccount("operator", Role.OPERATOR.value, secrets.token_urlsafe(12)),
    ]


def ensure_accounts(engine: Engine, data_dir: Path) -> list[DemoAccount]:
    """The demo's accounts, made at the county on the first run (the same ones after)."""
    path = data_dir / ACCOUNTS_FILE
    if path.exists():
        return [DemoAccount(**a) for a in json.loads(path.read_text(encoding="utf-8"))]
    planned = _planned()
    store = Accounts(engine)
    for a in planned:
        try:
            store.add(a.username, Role(a.role), a.password, a.township)
        except AccountError:  # made by a run that died before writing the file: new password
            store.set_password(a.username, a.password)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump([asdict(a) for a in planned], out, ensure_ascii=False, indent=1)
    return planned


def operator_token(engine: Engine) -> str:
    """A bearer token for the demo's own reads of the county (node health while loading)."""
    return Accounts(engine).issue("operator", TokenKind.BEARER, "demo", days=1).token
