"""/api/v1/session: sign in (a session cookie and its CSRF value), who am I, sign out."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from services.county.accounts.roles import ROLE_NAMES, Role
from services.county.accounts.store import SESSION_MAX, TokenKind
from services.county.api.auth import SESSION_COOKIE, CurrentDep, get_accounts, public, require
from services.county.api.errors import Refused
from services.county.api.responses import Json, ok
from services.county.api.sign_in import SignInLimiter
from shared.credentials import MAX_PASSWORD
from shared.ids import SLUG_PATTERN

RETRY_AFTER_HEADER = {
    "Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer"}}
}
router = APIRouter(prefix="/api/v1/session", tags=["session"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class Session(BaseModel):
    """The signed-in account; `csrf` only in sign-in's answer (send it as `X-CSRF-Token`)."""

    username: str
    role: Role
    role_name: str
    township: str | None
    csrf: str | None = None
    expires_at: str | None = None


def _refuse(status: int, field: str, message: str, retry: float | None = None) -> JSONResponse:
    headers = {"Retry-After": str(max(1, math.ceil(retry)))} if retry is not None else None
    return JSONResponse({"detail": [{"field": field, "message": message}]}, status, headers=headers)


def _same_origin(request: Request) -> bool:
    """No `Origin`, or the one the request was sent to (a sign-in from another site is refused)."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    return urlsplit(origin).netloc == request.headers.get("host")


def _refusal(code: int, description: str) -> dict[int | str, dict[str, object]]:
    return {code: {"model": Refused, "description": description}}


@router.post(
    "",
    summary="Sign in: a session cookie (HttpOnly, SameSite=Strict) and its CSRF value",
    openapi_extra=public("signing in is how one gets a role"),
    responses={
        **ok(Session),
        **_refusal(401, "Unknown username or wrong password (the same answer for both)"),
        **_refusal(403, "Sent from another site"),
        429: {
            **_refusal(429, "Too many failures for this username or address; `Retry-After` says when")[429],
            "headers": RETRY_AFTER_HEADER,
        },
    },
)
async def sign_in(request: Request, body: Annotated[SignIn, Body()]) -> JSONResponse:
    if not _same_origin(request):
        return _refuse(403, "origin", "sign in from the county's own page")
    limiter: SignInLimiter = request.app.state.sign_in
    client = f"ip:{request.client.host if request.client else '?'}"
    user = f"user:{body.username}"
    wait = limiter.wait(user, client)
    if wait > 0:
        return _refuse(429, "username", "too many failed sign-ins; wait", retry=wait)
    accounts = get_accounts(request)
    if not await run_in_threadpool(accounts.authenticate, body.username, body.password):
        limiter.failed(user, client)
        return _refuse(401, "password", "unknown username or wrong password")
    limiter.succeeded(user)
    issued = await run_in_threadpool(accounts.issue, body.username, TokenKind.SESSION)
    principal = await run_in_threadpool(accounts.resolve, issued.token, TokenKind.SESSION)
    assert principal is not None
    answer = Session(
        username=principal.username,
        role=principal.role,
        role_name=ROLE_NAMES[principal.role],
        township=principal.township,
        csrf=issued.csrf,
        expires_at=issued.expires_at,
    )
    response = JSONResponse(answer.model_dump(mode="json"))
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(SESSION_MAX.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get(
    "",
    summary="The signed-in account",
    dependencies=[require(*Role)],
    responses=ok(Session),
)
def whoami(principal: CurrentDep) -> Json:
    return Json(
        Session(
            username=principal.username,
            role=principal.role,
            role_name=ROLE_NAMES[principal.role],
            township=principal.township,
        ).model_dump(mode="json")
    )


@router.delete(
    "",
    status_code=204,
    summary="Sign out: the session ends (a bearer token is revoked with `tongxin county user revoke`)",
    dependencies=[require(*Role)],
)
def sign_out(request: Request, principal: CurrentDep) -> Response:
    if principal.kind is TokenKind.SESSION:
        get_accounts(request).revoke(principal.token_digest)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
