"""The base of every response model: every key declared, no other key allowed; and, for the
shapes that follow a table of the catalog (the figures), models built from that table."""

from __future__ import annotations

import keyword
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, create_model


class Model(BaseModel):
    """A JSON object the API returns: its fields are all its keys."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


def build(name: str, doc: str, fields: dict[str, Any]) -> type[Model]:
    """A model `name` with `fields` (key → type, all required); a key that is not an identifier
    (`returnee.invested`) is declared by alias."""
    declared: dict[str, Any] = {}
    for key, kind in fields.items():
        if key.isidentifier() and not keyword.iskeyword(key):
            declared[key] = (kind, ...)
        else:
            declared[key.replace(".", "_") + "_"] = (kind, Field(alias=key))
    model: type[Model] = create_model(name, __base__=Model, __doc__=doc, **declared)
    return model


def many(model: type[Model]) -> Any:
    """`list[model]` for a model built at run time (a type expression mypy cannot see)."""
    return cast(Any, list)[model]


def by_name(model: type[Model]) -> Any:
    """`dict[str, model]` for a model built at run time (keys as free text, e.g. an industry)."""
    return cast(Any, dict)[str, model]


def fields_of(model: type[Model]) -> dict[str, Any]:
    """A model's keys (aliases where declared) and their types, to build a model extending it."""
    return {f.alias or name: f.annotation for name, f in model.model_fields.items()}


def optional(model: type[Model]) -> Any:
    """`model | None` for a model built at run time."""
    return model | None
