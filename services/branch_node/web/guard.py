"""The node's HTTP front door, before any route: Host, Origin, media type, body size, response headers.

`Guard` is plain ASGI (no BaseHTTPMiddleware, which would read bodies into memory and break
streaming). For every request:

- Host must name this node: `127.0.0.1`, `localhost`, `[::1]`, the bind host, or a name given with
  `node serve --allowed-host` (any port). Another name is a DNS-rebinding page → 400.
- A write (POST, PUT, PATCH, DELETE) whose `Origin` is not this very origin (the request's scheme,
  the Host as sent, port included), or whose `Sec-Fetch-Site` says `cross-site`, comes from another site's
  page → 403. No origin is allowed another one's: the node sends no CORS headers at all.
- A write under `/api/` is JSON (`application/json`), or multipart/form-data for the import;
  anything else (a `text/plain` form, which a browser sends cross-origin unasked) → 415.
- A body over its limit (`limits.py`) → 413 with `Connection: close`: at once when Content-Length
  says so, otherwise as soon as the bytes read so far pass it; the rest is never read.
- Every response carries the security headers below; `/api/` answers are never cached.

Refusals are JSON, `{"detail": [{"field", "message"}]}` as every other 4xx of the node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.branch_node.limits import IMPORT_PREFIX, MAX_IMPORT_BODY, MAX_JSON_BODY

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BodyTooLarge(Exception):
    """Raised out of `receive` when the body passes its limit; the guard answers 413."""


def host_name(host: str) -> str:
    """The name in a Host value or an allowed host, lower case, IPv6 in brackets, no port."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    if host.count(":") > 1:  # a bare IPv6 address, as `--host ::1` gives it
        return f"[{host}]"
    return host.partition(":")[0]


def _host_port(host: str, scheme: str) -> tuple[str, int | None]:
    host = host.strip().lower()
    name = host_name(host)
    if host.startswith("["):
        rest = host[host.find("]") + 1 :]
    else:
        rest = "" if host.count(":") > 1 else host[len(name) :]
    port = rest[1:] if rest.startswith(":") else ""
    return name, int(port) if port.isdigit() else _DEFAULT_PORTS.get(scheme)


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """Whether `origin` (`scheme://host[:port]`) is the origin of a `scheme` request to `host`."""
    sent, sep, rest = origin.strip().lower().partition("://")
    if not sep or sent != scheme or scheme not in _DEFAULT_PORTS or "/" in rest or not rest:
        return False
    return _host_port(rest, scheme) == _host_port(host, scheme)


class Guard:
    """Wrap `app`; `allowed_hosts` are the names beside loopback that may reach it."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        names = {host_name(h) for h in (*LOOPBACK, *allowed_hosts) if h.strip()}
        self.allowed = frozenset(names - {"0.0.0.0", "[::]"})  # a bind-all address names no host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        send = _with_headers(send, api=path.startswith("/api/"))
        headers = Headers(scope=scope)
        limit = MAX_IMPORT_BODY if path.startswith(IMPORT_PREFIX) else MAX_JSON_BODY
        refusal = self._refusal(scope, headers, limit)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        state = {"received": 0, "over": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["over"] = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            if state["over"]:  # what the app answers to the interrupted read is dropped
                return
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await _refuse(send, *_too_large(limit))

    def _refusal(self, scope: Scope, headers: Headers, limit: int) -> tuple[int, str, str] | None:
        method, path = scope["method"], scope["path"]
        host = headers.get("host", "")
        if host_name(host) not in self.allowed:
            return 400, "host", f"this node does not answer to the host {host[:100]!r}"
        if method in UNSAFE:
            origin = headers.get("origin")
            if origin is not None and not same_origin(origin, scope.get("scheme", "http"), host):
                return 403, "origin", f"a write from another origin ({origin[:100]!r}) is refused"
            if headers.get("sec-fetch-site") == "cross-site":
                return 403, "origin", "a write from another site is refused"
            if path.startswith("/api/") and (wrong := _media_type_refused(path, headers)):
                return 415, "content-type", wrong
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return 400, "content-length", "not a number of bytes"
            if int(length) > limit:
                return _too_large(limit)
        return None


def _media_type_refused(path: str, headers: Headers) -> str | None:
    sent = headers.get("content-type")
    media = (sent or "").partition(";")[0].strip().lower()
    if path.startswith(IMPORT_PREFIX):
        return None if media == "multipart/form-data" else "send the file as multipart/form-data"
    has_body = headers.get("content-length", "0").strip() not in ("", "0") or "transfer-encoding" in headers
    if media == "application/json" or (sent is None and not has_body):
        return None
    return f"send JSON (Content-Type: application/json), not {sent or 'no Content-Type'}"


def _too_large(limit: int) -> tuple[int, str, str]:
    return 413, "body", f"larger than {limit >> 20} MiB"


async def _refuse(send: Send, status: int, field: str, message: str) -> None:
    """Answer with a refusal and close the connection: the request's body is never read."""
    body = json.dumps(refusal_body(field, message)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_headers(send: Send, *, api: bool) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(raw=list(message.get("headers", [])))
            for name, value in SECURITY_HEADERS.items():
                headers[name] = value
            if api:
                headers["cache-control"] = "no-store"
            message = {**message, "headers": headers.raw}
        await send(message)

    return sending


def refusal_body(field: str, message: str) -> dict[str, Any]:
    """The body of a refusal, as the guard and the routes write it."""
    return {"detail": [{"field": field, "message": message}]}
