"""What the node's API answers when it refuses a request, and what its OpenAPI says it answers.

Every 4xx body is `{"detail": [{"field", "message", …}]}`: `index` names the event of a batch,
`line` the line of an imported file, `loc` and `type` come with a parameter FastAPI itself checked.
The OpenAPI declares that shape (`Refused`) instead of FastAPI's default `HTTPValidationError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

_LOCATIONS = ("query", "path", "body", "header", "cookie", "form", "file")
_REF = "#/components/schemas/{model}"


class Refusal(BaseModel):
    """One reason a request was refused, naming the offending field."""

    model_config = ConfigDict(extra="allow")
    field: str = Field(description="The field refused, dotted (`payload.amount_fen`; `` for the whole).")
    message: str = Field(description="Why, in words.")


class Refused(BaseModel):
    """A refused request: each reason, field by field (with `index` or `line` where they apply)."""

    detail: list[Refusal]


Responses = dict[int | str, dict[str, Any]]

PROTECTED: Responses = {
    401: {
        "model": Refused,
        "description": "Not signed in: no session cookie or bearer token, or one that is over (field "
        "`authorization`)",
    },
    403: {
        "model": Refused,
        "description": "A write from another origin or site, a session's write without `X-CSRF-Token`, "
        "or a one-time session before it set the password",
    },
}
"""The refusals of every route that needs the clerk (`web/signin.py`), for its router's `responses=`."""

REFUSED: Responses = {
    400: {"model": Refused, "description": "The body is not JSON"},
    **PROTECTED,
    413: {"model": Refused, "description": "The body is over the limit (8 MiB; 21 MiB for an import)"},
    415: {
        "model": Refused,
        "description": "Not `application/json` (an import: not `multipart/form-data`); field `content-type`",
    },
    422: {"model": Refused, "description": "Refused: each `detail` item names the field and why"},
}
"""The refusals of a route that reads a body, for its `responses=`."""

SIGNIN_REFUSED: Responses = {
    **REFUSED,
    401: {"model": Refused, "description": "Wrong password, or a wrong or used one-time token"},
    429: {
        "model": Refused,
        "description": "Too many failed sign-ins: 5 a minute for the whole node",
        "headers": {
            "Retry-After": {"description": "Seconds until an attempt is heard", "schema": {"type": "integer"}}
        },
    },
}
"""The refusals of signing in."""


def field_name(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts)


def handle_refusals(app: FastAPI) -> None:
    """FastAPI's own 422 with `field` and `message`, and the OpenAPI's 422 shape replaced."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
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

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        found = Refused.model_json_schema(ref_template=_REF)
        schemas.update(found.pop("$defs", {}))
        schemas[Refused.__name__] = found
        body = {"application/json": {"schema": {"$ref": _REF.format(model=Refused.__name__)}}}
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                if "422" in operation.get("responses", {}):
                    operation["responses"]["422"] = {
                        "description": REFUSED[422]["description"],
                        "content": body,
                    }
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
