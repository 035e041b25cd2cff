"""County accounts for the benches (issue 14): the county's API answers only a signed-in role.

An account is made as `tongxin county user add` makes it (a random password, its Argon2id hash),
then a bearer token issued for it as `tongxin county user token` does; a bench sends the token on
every request (`Authorization: Bearer …`), or signs in with the password (the dashboard benches).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine

from services.county.accounts.roles import Role
from services.county.accounts.store import AccountError, Accounts, TokenKind


@dataclass(frozen=True)
class BenchAccount:
    username: str
    password: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        """The `Authorization` header of the account's bearer token."""
        return {"Authorization": f"Bearer {self.token}"}


def account(engine: Engine, role: Role = Role.ANALYST, username: str | None = None) -> BenchAccount:
    """An account of `role` (made now, or its password set anew if an earlier run made it) and a
    fresh one-day bearer token for it."""
    name = username or f"bench-{role.value}".replace("_", "-")
    password = secrets.token_urlsafe(18)
    store = Accounts(engine)
    try:
        store.add(name, role, password)
    except AccountError:  # a database an earlier run made (bench.asof --reuse)
        store.set_password(name, password)
    return BenchAccount(name, password, store.issue(name, TokenKind.BEARER, "bench", days=1).token)
