"""Who may use the node's API: the clerk's sign-in (`/api/v1/session`) and the `Gate` before every route.

A request reaches a protected route with either
- `Authorization: Bearer <token>`, a token made by `tongxin node token add NAME` (a program's), or
- the session cookie `tongxin_clerk` (the page's, `sessions.py`), and on a write the session's
  CSRF token in `X-CSRF-Token`: a cookie alone proves only that a browser sent it.
Otherwise 401 (field `authorization`). A session begun with the one-time sign-in token may only
set the password (403, field `password`, elsewhere). The credentials are `clerk.py`'s.

Open without either: `/health`, the page and its assets, `/docs`, `/openapi.json` (none hold
data), and `GET`/`POST /api/v1/session` (to learn whether one is signed in, and to sign in).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Body, FastAPI, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from services.branch_node.clerk import Clerk, ClerkFileError
from services.branch_node.refusals import PROTECTED, REFUSED, SIGNIN_REFUSED
from services.branch_node.web.sessions import (
    BACKGROUND_HEADER,
    COOKIE,
    CSRF_HEADER,
    Session,
    Sessions,
    Throttle,
)
from shared.credentials import MAX_PASSWORD, WeakPasswordError, same
from shared.errors import FieldError

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE_SCHEME = APIKeyCookie(
    name=COOKIE,
    scheme_name="clerkSession",
    description="The clerk's session, set by `POST /api/v1/session`; writes also send its CSRF token "
    f"(the answer's `csrf_token`) as `{CSRF_HEADER}`.",
    auto_error=False,
)
BEARER_SCHEME = HTTPBearer(
    scheme_name="bearerToken",
    description="A token made by `tongxin node token add NAME` (shown once).",
    auto_error=False,
)


class Refusal(Exception):
    """A request refused before its route runs: answered as `{"detail": [{field, message}]}`."""

    def __init__(self, status: int, field: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.field, self.message, self.headers = status, field, message, headers or {}


@dataclass(frozen=True)
class Caller:
    """Who a request is: a bearer token's `name`, or the page's session (`token` its cookie)."""

    name: str | None = None
    token: str | None = None
    session: Session | None = None


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(None, max_length=MAX_PASSWORD, description="The clerk's password.")
    token: str | None = Field(None, max_length=100, description="The one-time sign-in token of `node init`.")


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(max_length=MAX_PASSWORD, description="The new password (10 characters or more).")
    current: str | None = Field(
        None, max_length=MAX_PASSWORD, description="The password now; not asked of a one-time session."
    )


class SessionState(BaseModel):
    signed_in: bool = Field(description="This browser holds a live session.")
    setup: bool = Field(False, description="Signed in with the one-time token: set a password next.")
    password_set: bool = Field(description="The clerk has a password (else sign in with the token).")
    csrf_token: str | None = Field(None, description=f"Send it as `{CSRF_HEADER}` on every write.")


class Gate:
    """The dependency of every protected route; `setup_ok` lets a one-time session through."""

    def __init__(self, clerk: Clerk, sessions: Sessions, *, setup_ok: bool = False) -> None:
        self.clerk, self.sessions, self.setup_ok = clerk, sessions, setup_ok

    async def __call__(
        self,
        request: Request,
        _cookie: Annotated[str | None, Security(COOKIE_SCHEME)],
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)],
    ) -> Caller:
        try:
            caller = self._caller(request)
        except ClerkFileError as exc:
            raise Refusal(401, "authorization", f"the node cannot read its clerk.json: {exc}") from None
        request.state.caller = caller
        return caller

    def _caller(self, request: Request) -> Caller:
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Refusal(401, "authorization", "expected `Authorization: Bearer <token>`")
            name = self.clerk.bearer(token.strip())
            if name is None:
                raise Refusal(401, "authorization", "unknown or revoked token")
            return Caller(name=name)
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            raise Refusal(401, "authorization", "sign in (POST /api/v1/session) or send a bearer token")
        background = request.headers.get(BACKGROUND_HEADER) == "1"
        session = self.sessions.find(cookie, self.clerk.state().epoch, touch=not background)
        if session is None:
            raise Refusal(401, "authorization", "the session is over: sign in again")
        if request.method not in SAFE:
            sent = request.headers.get(CSRF_HEADER, "")
            if not same(sent, self.sessions.csrf(cookie)):
                raise Refusal(403, CSRF_HEADER.lower(), f"a write with the cookie needs {CSRF_HEADER}")
        if session.setup and not self.setup_ok:
            raise Refusal(403, "password", "signed in with the one-time token: set a password first")
        return Caller(token=cookie, session=session)


class Desk:
    """What the sign-in routes share: the credentials, the sessions, the limit, one Argon2 at a time
    (each takes 64 MiB: many attempts at once queue instead of adding up)."""

    def __init__(self, clerk: Clerk, sessions: Sessions, throttle: Throttle) -> None:
        self.clerk, self.sessions, self.throttle = clerk, sessions, throttle
        self._argon = threading.Lock()

    def state(self, request: Request) -> SessionState:
        cookie = request.cookies.get(COOKIE)
        current = self.clerk.state()
        session = self.sessions.find(cookie, current.epoch, touch=False) if cookie else None
        return SessionState(
            signed_in=session is not None,
            setup=session is not None and session.setup,
            password_set=current.password is not None,
            csrf_token=self.sessions.csrf(cookie) if session is not None and cookie else None,
        )

    def attempt(self, check: Callable[[str], bool], secret: str) -> bool:
        """One sign-in attempt (in a worker thread), heard only within the limit."""
        with self._argon:
            wait = self.throttle.retry_after()
            if wait is not None:
                raise Refusal(429, "authorization", "too many failed sign-ins", {"Retry-After": str(wait)})
            ok = check(secret)
            if not ok:
                self.throttle.failed()
            return ok

    def set_password(self, password: str) -> None:
        with self._argon:
            self.clerk.set_password(password)


def mount_signin(app: FastAPI, clerk: Clerk, sessions: Sessions, throttle: Throttle) -> Gate:
    """Add `/api/v1/session…` and the refusal handler; the gate for every other protected route."""

    @app.exception_handler(Refusal)
    async def refused(_: Request, exc: Refusal) -> JSONResponse:
        content = {"detail": [{"field": exc.field, "message": exc.message}]}
        headers = {"WWW-Authenticate": 'Bearer realm="tongxin-node"'} if exc.status == 401 else {}
        return JSONResponse(status_code=exc.status, content=content, headers={**headers, **exc.headers})

    router = APIRouter(prefix="/api/v1", tags=["sign-in"])
    desk = Desk(clerk, sessions, throttle)
    _session_routes(router, desk)
    _password_route(router, desk, Gate(clerk, sessions, setup_ok=True))
    app.include_router(router)
    return Gate(clerk, sessions)


def _session_routes(router: APIRouter, desk: Desk) -> None:
    clerk, sessions = desk.clerk, desk.sessions

    @router.get("/session", summary="Whether this browser is signed in; its CSRF token")
    def get_session(request: Request) -> SessionState:
        return desk.state(request)

    @router.post(
        "/session", status_code=201, summary="Sign in with the password or the one-time token",
        responses=SIGNIN_REFUSED,
    )  # fmt: skip
    async def sign_in(request: Request, body: Annotated[SignIn, Body()]) -> JSONResponse:
        if (body.password is None) == (body.token is None):
            raise FieldError("password", "give either the password or the one-time token")
        setup = body.token is not None
        if setup:
            if not await run_in_threadpool(desk.attempt, clerk.use_signin_token, body.token or ""):
                raise Refusal(401, "token", "wrong or used token")
        elif not await run_in_threadpool(desk.attempt, clerk.check_password, body.password or ""):
            raise Refusal(401, "password", "wrong password")
        token = sessions.begin(clerk.state().epoch, setup=setup)
        answer = SessionState(
            signed_in=True, setup=setup, password_set=not setup, csrf_token=sessions.csrf(token)
        )
        response = JSONResponse(status_code=201, content=answer.model_dump())
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", path="/", secure=request.url.scheme == "https"
        )
        return response

    @router.delete("/session", status_code=204, summary="Sign out", responses=PROTECTED)
    def sign_out(request: Request) -> Response:
        cookie = request.cookies.get(COOKIE)
        if cookie and sessions.find(cookie, clerk.state().epoch) is not None:
            if not same(request.headers.get(CSRF_HEADER, ""), sessions.csrf(cookie)):
                raise Refusal(403, CSRF_HEADER.lower(), f"signing out needs {CSRF_HEADER}")
            sessions.end(cookie)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _password_route(router: APIRouter, desk: Desk, setup_gate: Gate) -> None:
    @router.put(
        "/session/password", status_code=204, summary="Set the clerk's password (ends other sessions)",
        responses={**REFUSED, 429: SIGNIN_REFUSED[429]}, dependencies=[Security(setup_gate)],
    )  # fmt: skip
    async def set_password(request: Request, body: Annotated[NewPassword, Body()]) -> Response:
        caller: Caller = request.state.caller
        if caller.session is None or caller.token is None:
            raise Refusal(403, "authorization", "only the clerk's session sets the password")
        if not caller.session.setup:
            if body.current is None:
                raise FieldError("current", "required: the password now")
            if not await run_in_threadpool(desk.attempt, desk.clerk.check_password, body.current):
                raise Refusal(401, "current", "wrong password")
        try:
            await run_in_threadpool(desk.set_password, body.password)
        except WeakPasswordError as exc:
            raise FieldError("password", str(exc)) from None
        desk.sessions.renew(caller.token, desk.clerk.state().epoch)
        return Response(status_code=204)
