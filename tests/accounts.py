"""Accounts for tests of the county's API: a real account row and a real bearer token in the test's
database (only the password hash is skipped: Argon2 costs 0.3 s, and a token needs no password)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from services.county.accounts.roles import Role
from services.county.accounts.store import Accounts, TokenKind
from services.county.accounts.tables import accounts
from services.county.api.auth import SESSION_COOKIE

NO_PASSWORD = "!"
"""A hash no password verifies against (not a PHC string): the account signs in by token only."""


def account_name(role: Role, township: str | None = None, user: str = "test") -> str:
    return f"{user}-{role.value}-{township or 'county'}".replace("_", "-")


def bearer(
    engine: Engine, role: Role = Role.ANALYST, township: str | None = None, user: str = "test"
) -> dict[str, str]:
    """The `Authorization` header of a fresh token for a test account of `role` (one per user,
    role and township, made on first use)."""
    username = account_name(role, township, user)
    with suppress(IntegrityError):  # another thread of the test made it first
        _add(engine, username, role, township)
    token = Accounts(engine).issue(username, TokenKind.BEARER, "test").token
    return {"Authorization": f"Bearer {token}"}


def _add(engine: Engine, username: str, role: Role, township: str | None) -> None:
    with engine.begin() as conn:
        if conn.execute(select(accounts.c.username).where(accounts.c.username == username)).first() is None:
            conn.execute(
                insert(accounts).values(
                    username=username,
                    role=role.value,
                    township=township,
                    password_hash=NO_PASSWORD,
                    disabled=False,
                    created_at="2026-01-01T00:00:00.000000Z",
                    changed_at="2026-01-01T00:00:00.000000Z",
                )
            )


ROLE_BY_PREFIX = (
    ("/api/v1/audit", Role.AUDITOR),
    ("/api/v1/digest", Role.AUDITOR),
    ("/api/v1/quarantine", Role.OPERATOR),
    ("/metrics", Role.OPERATOR),
    ("/api/v1/nodes", Role.OPERATOR),
    ("/api/v1/reveals", Role.AUDITOR),
)
"""Which role a `CountyClient` signs each path in as (others: analyst). Who may use what is tested
in tests/county/test_roles.py, route by route; the other tests ask as the role meant for it."""


class CountyClient(TestClient):
    """A TestClient of the county's app that sends, on each request, a bearer token of the role
    the path is for (`ROLE_BY_PREFIX`), unless the request brings its own `Authorization`."""

    def __init__(self, app: FastAPI, user: str = "test", **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.engine: Engine = app.state.engine
        self.user = user
        self._tokens: dict[Role, dict[str, str]] = {}

    @staticmethod
    def role_for(path: str) -> Role:
        return next((r for prefix, r in ROLE_BY_PREFIX if path.startswith(prefix)), Role.ANALYST)

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        role = self.role_for(urlsplit(str(url)).path)
        headers = dict(kwargs.pop("headers", None) or {})
        if not any(k.lower() == "authorization" for k in headers):
            if role not in self._tokens:
                self._tokens[role] = bearer(self.engine, role, user=self.user)
            headers.update(self._tokens[role])
        return super().request(method, url, *args, headers=headers, **kwargs)


def session_cookie(
    engine: Engine, base: str, role: Role = Role.ANALYST, township: str | None = None
) -> dict[str, Any]:
    """A signed-in session of a test account, as the cookie a browser context takes (Playwright's
    `add_cookies`) — the same cookie `POST /api/v1/session` sets."""
    username = account_name(role, township)
    with suppress(IntegrityError):
        _add(engine, username, role, township)
    issued = Accounts(engine).issue(username, TokenKind.SESSION)
    return {
        "name": SESSION_COOKIE,
        "value": issued.token,
        "url": base,
        "httpOnly": True,
        "sameSite": "Strict",
    }
