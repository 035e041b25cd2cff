"""Refusals at the HTTP edge: every 4xx body is `{"detail": [{"field", "message", …}]}`, and the
OpenAPI declares that shape instead of FastAPI's default `HTTPValidationError`.

- 422, a parameter FastAPI refused: each item has `field` (the parameter, e.g. `limit`), `message`,
  `loc` (FastAPI's location, e.g. `["query", "limit"]`) and `type` (pydantic's error type);
- 422, a value a query refused (`FieldError`, e.g. `from` after `to`): `field` and `message`;
- 404 (`NotFoundError`: nothing with that id) and 409: `field` and `message`;
- 429 (`BusyError`: a heavy job refused, `api/expensive.py`): `field` and `message`, with a
  `Retry-After` header; each route that can refuse so declares `BUSY` in its `responses=`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.county.api.responses import Responses
from services.county.queries.common import NotFoundError
from shared.errors import FieldError

_LOCATIONS = ("query", "path", "body", "header", "cookie")
_REF = "#/components/schemas/{model}"


class Refusal(BaseModel):
    """One reason a request was refused, naming the offending field."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="The parameter or field refused, dotted (`as_of`, `payload.amount_fen`).")
    message: str = Field(description="Why, in words.")


class Refused(BaseModel):
    """A 404 or 409 (and a 422 a query raised): what was refused, field by field."""

    model_config = ConfigDict(extra="forbid")
    detail: list[Refusal]


def _not_required(schema: dict[str, Any]) -> None:
    """`loc` and `type` are absent, not defaulted, where a query refused a value: no `default`."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class RequestRefusal(Refusal):
    """A refused parameter; `loc` and `type` come with those FastAPI itself checked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_not_required)
    loc: list[str] = Field(
        default_factory=list, description='Where FastAPI found it, e.g. `["query", "limit"]`.'
    )
    type: str = Field(default="", description="Pydantic's error type, e.g. `less_than_equal`.")


class RequestRefused(BaseModel):
    """A 422: the request's parameters or values, refused field by field."""

    model_config = ConfigDict(extra="forbid")
    detail: list[RequestRefusal]


def refused(code: int, description: str) -> Responses:
    """A 4xx answer (`Refused`) for a route's `responses=`."""
    return {code: {"model": Refused, "description": description}}


NOT_FOUND = refused(404, "Nothing with that id; `detail[0].field` names the parameter")
INVALID = "Refused: each `detail` item names the `field` (a parameter or a value in it) and why"


class BusyError(Exception):
    """A heavy job refused now (429): the caller's one job, or the service's cap, is taken."""

    def __init__(self, field: str, message: str, retry_after: int) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


BUSY: Responses = {
    429: {
        "model": Refused,
        "description": "Busy: the caller already runs a heavy job (verify, an export, a replay, a past "
        "`known_at`), or the service runs as many as it can at once. Nothing was done; try again after "
        "`Retry-After` seconds. `detail[0].field` names the parameter that made the job heavy (empty: "
        "the route itself).",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "required": True,
                "schema": {"type": "integer"},
            }
        },
    }
}
"""The 429 of a route that takes a heavy job (`api/expensive.py`) or `known_at`, for `responses=`."""


def field_name(loc: Iterable[Any]) -> str:
    """The parameter a FastAPI error location names (`("query", "limit")` → `limit`)."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts)


def handle_refusals(app: FastAPI) -> None:
    """Turn NotFoundError into a 404, FieldError and FastAPI's own validation into a 422 naming the
    field, BusyError into a 429 with `Retry-After`."""

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": [exc.to_dict()]})

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [exc.to_dict()]})

    @app.exception_handler(BusyError)
    async def busy(_: Request, exc: BusyError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(status_code=429, content={"detail": [exc.to_dict()]}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own 422, with `field` and `message` added so that every error reads alike."""
        detail = [
            {
                "field": field_name(e.get("loc", ())),
                "message": str(e.get("msg", "")),
                "loc": [str(p) for p in e.get("loc", ())],
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": detail})


def declare_refusals(app: FastAPI) -> None:
    """Make the OpenAPI declare the 422 body the app sends (`RequestRefused`) wherever FastAPI
    declared its default `HTTPValidationError`, and drop that schema and its `ValidationError`."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        found = RequestRefused.model_json_schema(ref_template=_REF)
        schemas.update(found.pop("$defs", {}))
        schemas[RequestRefused.__name__] = found
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                if "422" in operation.get("responses", {}):
                    operation["responses"]["422"] = {
                        "description": INVALID,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": _REF.format(model=RequestRefused.__name__)}
                            }
                        },
                    }
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
