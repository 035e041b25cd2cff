"""How the query API answers: JSON encoded by msgspec, files to download, and the OpenAPI entries
that declare what each route returns.

The response models (`api/models/`) are declared for the OpenAPI (`ok(Model)`), not run on every
answer: the queries' dicts go out as msgspec encodes them, byte for byte what FastAPI sent before.
Per answer, over the 1,000,000-event bench.asof archive (median µs, 2026-12-01): a township's
members page (100 rows, 53 KB) msgspec 57, FastAPI's former `dict[str, Any]` path 157, through
its pydantic model (`response_model=`) 562; education by org 27 / 79 / 523; alerts 40 / 112 / 714
(`python -m bench.responses`). Running the models would add about half a millisecond to pages
whose p95 target is 50 ms, and a key a model forgot would fail a user's request (or, with
pydantic's default, vanish from it) instead of a test; the tests check real answers of every
route against the schema declared (tests/county/test_openapi.py), so the OpenAPI cannot drift
from what comes back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

_encode = msgspec.json.Encoder().encode

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"
_BINARY = {"schema": {"type": "string", "format": "binary"}}


class Json(JSONResponse):
    """A JSON answer encoded by msgspec (UTF-8, compact, keys in the order the query built them)."""

    def render(self, content: Any) -> bytes:
        return _encode(content)


Responses = dict[int | str, dict[str, Any]]


def ok(model: type[BaseModel], description: str = "The answer") -> Responses:
    """The 200 answer of a JSON route, declared by its response model."""
    return {200: {"model": model, "description": description}}


def file(media_type: str, description: str) -> Responses:
    """The 200 answer of a route that sends a file (CSV, .xlsx, .zip)."""
    schema = {"schema": {"type": "string"}} if media_type.startswith("text/") else _BINARY
    return {200: {"content": {media_type.split(";", maxsplit=1)[0]: schema}, "description": description}}


def download(body: bytes, media_type: str, filename: str, ascii_name: str | None = None) -> Response:
    """A file for the browser to save (Content-Disposition: attachment). A name that is not ASCII
    (`花名册_城关镇_2026-12-03.xlsx`) goes in `filename*` (RFC 5987, UTF-8), with `ascii_name` as
    the `filename` of clients that cannot read it."""
    plain = ascii_name or filename
    disposition = f'attachment; filename="{plain}"'
    if filename != plain:
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})
