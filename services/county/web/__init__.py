"""The county dashboard: static pages served by the county service itself (no CDN, no build step).

`mount(app)` serves `static/index.html` at `/`, the sign-in page at `/login` and the scripts,
styles and the vendored Chart.js under `/static/`; every read is the query API's, as the signed-in
account (pages and files hold no data: they are open).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Add the dashboard to the county's app: `/` and `/static/…`."""

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/login", include_in_schema=False)
    def sign_in_page() -> FileResponse:
        return FileResponse(STATIC / "login.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
