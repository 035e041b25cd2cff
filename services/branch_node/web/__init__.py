"""The outstation page: forms in Chinese, roster import and a status panel, served by the node itself.

Plain HTML, JS and CSS under `static/`, no build step and nothing from a CDN, so the page
works on an outstation PC with no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from services.branch_node.service import NodeService
from services.branch_node.web.records import records_router
from services.branch_node.web.reference_routes import reference_router
from services.branch_node.web.routes import Record, outstation_router
from services.branch_node.web.signin import Gate

STATIC = Path(__file__).parent / "static"


def mount_outstation(app: FastAPI, node: NodeService, record: Record, gate: Gate) -> None:
    """Add the page at `/`, its assets at `/static/` and the API it uses under `/api/v1/` (behind
    `gate`; the page itself and its assets are open: they hold no data)."""
    app.include_router(outstation_router(node, record, gate))
    app.include_router(reference_router(node, gate))
    app.include_router(records_router(node, gate))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
