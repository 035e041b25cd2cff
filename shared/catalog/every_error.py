"""Every error of a payload at once: its fields converted one by one, then its cross-field rules.

msgspec stops at the first error, which is what the county's validation of delivered events
wants (one reason code). A clerk wants every bad field of a form or an import line in one answer:
this module converts each field of a Struct on its own with msgspec (the field's own annotated
type, so its bounds and patterns are the catalog's, written once), descends into nested Structs,
and runs a Struct's cross-field rules (`problems`, `shared.catalog.base.Problems`) once every field
of it reads. Nothing here is a second copy of a rule.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import msgspec

from shared.errors import FieldError, from_msgspec

MISSING = "required field is missing"


def struct_errors(cls: type[msgspec.Struct], data: Any, *, strict: bool, path: str) -> list[FieldError]:
    """Every error msgspec would find, one at a time, in `data` as a `cls` at `path` (dotted)."""
    if not isinstance(data, dict):
        try:
            msgspec.convert(data, cls, strict=strict)
        except msgspec.ValidationError as exc:
            return [from_msgspec(exc, path)]
        return []
    config = cls.__struct_config__
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    known = {config.tag_field} if config.tag_field else set()
    for f in msgspec.structs.fields(cls):
        known.add(f.encode_name)
        at = f"{path}.{f.encode_name}" if path else f.encode_name
        if f.encode_name not in data:
            if f.required:
                errors.append(FieldError(at, MISSING))
            else:
                values[f.name] = f.default if f.default is not msgspec.NODEFAULT else f.default_factory()
            continue
        value = data[f.encode_name]
        nested = _struct_in(f.type)
        if nested is not None and isinstance(value, dict):
            found = struct_errors(nested, value, strict=strict, path=at)
            if found:
                errors.extend(found)
                continue
        try:
            values[f.name] = msgspec.convert(value, f.type, strict=strict)
        except msgspec.ValidationError as exc:
            errors.append(from_msgspec(exc, at))
    if config.forbid_unknown_fields:
        for name in data:
            if name not in known:
                errors.append(FieldError(path, f"Object contains unknown field `{name}`"))
    if not errors and (rules := getattr(cls, "problems", None)) is not None:
        fields = types.SimpleNamespace(**values)
        for name, message in rules(fields):
            errors.append(FieldError(f"{path}.{name}" if path else name, message))
    return errors


def _struct_in(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct a field holds (`Personal`, `Personal | None`), else None."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _struct_in(found[0]) if len(found) == 1 else None
    return None
