"""Who a request is, and whether its role may use the route (deny by default).

Every route of the county's API declares the roles it admits: its router (or the route) depends
on `require(*roles)`, a FastAPI `Security` dependency whose scopes are the role names, so the
OpenAPI says on each operation which roles may call it (`security`, OpenAPI 3.1 role names).
Two ways in:

- the dashboard's session: the cookie `tongxin_session` (HttpOnly, SameSite=Strict), set by
  `POST /api/v1/session`; a request that changes anything also sends `X-CSRF-Token`, the value
  that sign-in returned (a cross-site page can neither send the cookie nor read the value);
- a script's bearer token: `Authorization: Bearer …` (`tongxin county user token`).

No credentials: 401 (field `authorization`). A role the route does not admit: 403 (field `role`).
Routes without data (`/health`, sign-in, the page's assets) are declared public by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from services.county.accounts.roles import Role
from services.county.accounts.store import Accounts, Principal, TokenKind
from services.county.api.errors import Refused
from services.county.api.sign_in import SignInLimiter
from shared.credentials import same, token_digest

SESSION_COOKIE = "tongxin_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = "x-tongxin-public"
"""The OpenAPI extension a route without data carries instead of roles, saying why it is open."""

session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="The dashboard's session cookie, set by `POST /api/v1/session` (with `X-CSRF-Token` "
    "on requests that change anything).",
    auto_error=False,
)
bearer = HTTPBearer(
    scheme_name="bearer",
    description="A token made by `tongxin county user token NAME` (shown once).",
    auto_error=False,
)


class AuthError(Exception):
    """401 (who are you?) or 403 (not you), naming the field."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def authorize(
    scopes: SecurityScopes,
    request: Request,
    cookie: Annotated[str | None, Depends(session_cookie)],
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, if signed in with a role among the route's scopes (the role names)."""
    accounts = get_accounts(request)
    if token is not None:
        principal = accounts.resolve(token.credentials, TokenKind.BEARER)
    elif cookie is not None:
        principal = accounts.resolve(cookie, TokenKind.SESSION)
        if principal is not None and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if principal.csrf_digest is None or not same(token_digest(sent), principal.csrf_digest):
                raise AuthError(403, "x-csrf-token", "missing or wrong CSRF token")
    else:
        raise AuthError(401, "authorization", "sign in (session cookie) or send a bearer token")
    if principal is None:
        raise AuthError(401, "authorization", "the session or token is unknown, expired or revoked")
    if principal.role.value not in scopes.scopes:
        raise AuthError(403, "role", f"role {principal.role.value} may not use this route")
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Any:
    """The dependency a router or route declares: only these roles pass."""
    return Security(authorize, scopes=[r.value for r in roles])


def current(request: Request) -> Principal:
    """The principal `require` already admitted for this request (the router's dependency runs first)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthError(401, "authorization", "sign in first")
    return principal


CurrentDep = Annotated[Principal, Depends(current)]


def township_for(request: Request, township: str | None, field: str = "township") -> str | None:
    """The township a query is scoped to: a township officer's own (asking for another is 403);
    for every other role, the one asked for (or None: the county)."""
    principal = current(request)
    if principal.role is not Role.TOWNSHIP_OFFICER:
        return township
    if township is not None and township != principal.township:
        raise AuthError(403, field, f"a township officer sees township {principal.township} only")
    return principal.township


def in_scope(request: Request, township: str | None, *, placed: bool = False) -> bool:
    """Whether a row of `township` is the caller's to see. None is an organisation in no township
    (an outstation, a host organisation: seen by all) or, with `placed`, a member whose township
    is not registered (not any township officer's)."""
    principal = current(request)
    if principal.role is not Role.TOWNSHIP_OFFICER:
        return True
    return township == principal.township or (township is None and not placed)


def public(reason: str) -> dict[str, Any]:
    """`openapi_extra` of a route without data that anyone may call."""
    return {PUBLIC: reason}


def install_auth(app: FastAPI, accounts: Accounts) -> None:
    """Put `accounts` on the app, answer AuthError, and declare 401/403 on every guarded operation."""
    app.state.accounts = accounts
    app.state.sign_in = SignInLimiter()
    answer_auth_errors(app)
    declare_auth_responses(app)


def answer_auth_errors(app: FastAPI) -> None:
    """Answer AuthError as its 401 (with `WWW-Authenticate: Bearer`) or 403, naming the field."""

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"detail": [{"field": exc.field, "message": exc.message}]}
        return JSONResponse(status_code=exc.status, content=body, headers=headers)


def declare_auth_responses(app: FastAPI) -> None:
    """Make the OpenAPI declare 401 and 403 (`Refused`) on every operation that has `security`
    (the county's and the province's: both guard their routes with a `Security` dependency)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        ref = {"application/json": {"schema": {"$ref": f"#/components/schemas/{Refused.__name__}"}}}
        guarded = False
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                if operation.get("security"):
                    guarded = True
                    operation["responses"].setdefault(
                        "401", {"description": "Not signed in, or the token is unknown", "content": ref}
                    )
                    operation["responses"].setdefault(
                        "403", {"description": "The caller's role may not use this route", "content": ref}
                    )
        if guarded:
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            if Refused.__name__ not in schemas:
                found = Refused.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(found.pop("$defs", {}))
                schemas[Refused.__name__] = found
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
