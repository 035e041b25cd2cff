"""The OpenAPI page at /docs, served from the service's own copy of Swagger UI.

FastAPI's default /docs loads Swagger UI from a CDN, so it is blank on an offline county intranet
or outstation PC. Here the assets (Swagger UI 5, which reads OpenAPI 3.1) come from the
`fastapi-offline` package, and the page has no inline script, so it also works under a Content Security
Policy of `script-src 'self'`. Create the app with `docs_url=None, redoc_url=None` and call
`serve_docs(app)`. The page and its assets hold no data: what it shows is `/openapi.json`, which the
app protects as it decides.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""swagger-ui-bundle.js, swagger-ui.css and favicon.png, as the package ships them."""

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title} · API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{docs}/init.js"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({{
  url: {openapi!r},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
}});
"""


def serve_docs(app: FastAPI) -> None:
    """Add `/docs` (the page), `/docs/init.js` and `/docs/assets/…` (Swagger UI) to `app`."""
    page = _PAGE.format(title=app.title, assets=ASSETS_URL, docs=DOCS_URL)
    init = _INIT.format(openapi=app.openapi_url or "/openapi.json")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{DOCS_URL}/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(init, media_type="text/javascript")

    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
