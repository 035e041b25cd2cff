"""Security headers on every answer of the county's service (pages, files and the API).

The dashboard and /docs load nothing from elsewhere and run no inline script, so the policy
allows only the service itself; inline styles stay allowed (Swagger UI and Chart.js set them).
No page may be framed (clickjacking), nothing is sniffed into another type, no URL leaks in a
Referer, and API reads (personal data among them) are not kept in caches. (A POST's answer is
never cached by a browser; marked `no-store` too, Chromium reports the sign-in's request as
aborted when the page navigates on at once.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Pure ASGI middleware: adds `HEADERS` (and `Cache-Control: no-store` to GETs under /api/)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/") and scope.get("method") in ("GET", "HEAD")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = message.get("headers", [])
                headers = [h for h in kept if not api or h[0].lower() != b"cache-control"] + HEADERS
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
