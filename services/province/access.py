"""Who may read the province's API: its own roles and bearer tokens, deny by default.

The province's accounts are not a county's: a county's session or token means nothing here. Each
route declares its roles with `require(...)` (a FastAPI `Security` dependency whose scopes are
the role names, as the county's `services/county/api/auth.py`); no token is 401 (field
`authorization`), a role the route does not admit 403 (field `role`). Tokens are made by
`tongxin province token add NAME --role …` and shown once; only their SHA-256 is stored.

| Role | 中文 | May use |
|---|---|---|
| `province_analyst` | 省级分析员 | the figures and roster counts per county and for the province |
| `province_operator` | 省级运维员 | the ingest's state (how far each county is) |
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from sqlalchemy import Boolean, Column, Engine, MetaData, String, Table, select

from services.county.api.auth import AuthError
from shared.credentials import new_token, token_digest
from shared.errors import FieldError
from shared.ids import is_slug

TOKEN_DAYS = 90


class ProvinceRole(StrEnum):
    ANALYST = "province_analyst"
    OPERATOR = "province_operator"


metadata = MetaData()
tokens = Table(
    "province_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(64), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

bearer = HTTPBearer(
    scheme_name="bearer",
    description="A token made by `tongxin province token add NAME --role …` (shown once).",
    auto_error=False,
)


class Tokens:
    """The province's bearer tokens, in the province's own database (the table made if missing)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def add(self, name: str, role: ProvinceRole, days: int = TOKEN_DAYS) -> str:
        if not is_slug(name):
            raise FieldError("name", "must be a slug of lowercase letters, digits, - and _")
        if not 1 <= days <= 366:
            raise FieldError("days", "must be from 1 to 366")
        token = new_token()
        expires = (datetime.now(UTC) + timedelta(days=days)).isoformat()
        with self.engine.begin() as conn:
            conn.execute(
                tokens.insert().values(
                    digest=token_digest(token), name=name, role=role.value, expires_at=expires
                )
            )
        return token

    def revoke(self, name: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(tokens.update().where(tokens.c.name == name).values(revoked=True)).rowcount

    def resolve(self, token: str) -> ProvinceRole | None:
        c = tokens.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.role, c.expires_at, c.revoked).where(c.digest == token_digest(token))
            ).first()
        if row is None or row.revoked or row.expires_at <= datetime.now(UTC).isoformat():
            return None
        return ProvinceRole(row.role)


def authorize(
    scopes: SecurityScopes,
    request: Request,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ProvinceRole:
    if token is None:
        raise AuthError(401, "authorization", "send a bearer token (tongxin province token add)")
    found: Tokens = request.app.state.tokens
    role = found.resolve(token.credentials)
    if role is None:
        raise AuthError(401, "authorization", "the token is unknown, expired or revoked")
    if role.value not in scopes.scopes:
        raise AuthError(403, "role", f"role {role.value} may not use this route")
    return role


def require(*roles: ProvinceRole) -> Any:
    """The dependency a route declares: only these roles pass."""
    return Security(authorize, scopes=[r.value for r in roles])
