"""Errors that name the offending field, and the translation of msgspec's messages into them."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

_AT = re.compile(r"^(?P<msg>.*?) - at `\$(?P<path>[^`]*)`$", re.S)
_FIELD = re.compile(r"^field `(?P<name>[A-Za-z0-9_.]+)`: (?P<msg>.*)$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[A-Za-z0-9_]+)`$")
_REGEX = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.S)

PATTERN_MESSAGES: dict[str, str] = {}
"""Patterns whose msgspec message ("Expected `str` matching regex '…'") is replaced by words a
clerk can read; the module that defines such a pattern registers it here."""


class FieldError(ValueError):
    """A value was refused; `field` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def within(self, prefix: str) -> FieldError:
        """The same error, with its field placed under `prefix` (e.g. `payload`)."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return type(self)(field, self.message)

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}

    def all(self) -> list[FieldError]:
        """Every field refused: this one (`FieldErrors` holds several)."""
        return [self]


class FieldErrors(FieldError):
    """Several fields refused at once (a form, an import line): where one error is read (its
    `field`, `message`), it reads as the first; `all()` gives every one, in order."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        if not errors:
            raise ValueError("FieldErrors needs at least one error")
        self.errors = [e for error in errors for e in error.all()]
        super().__init__(self.errors[0].field, self.errors[0].message)

    def __str__(self) -> str:
        return "; ".join(str(FieldError.__str__(e)) for e in self.errors)

    def within(self, prefix: str) -> FieldError:
        return FieldErrors([e.within(prefix) for e in self.errors])

    def all(self) -> list[FieldError]:
        return list(self.errors)


def refuse(errors: Sequence[FieldError]) -> None:
    """Raise what `errors` holds: nothing when empty, the one error, or all of them at once."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FieldErrors(errors)


def invalid(field: str, message: str) -> ValueError:
    """The error to raise from a Struct's `__post_init__`; msgspec keeps the message."""
    return ValueError(f"field `{field}`: {message}")


def from_msgspec(exc: msgspec.ValidationError | msgspec.DecodeError, prefix: str = "") -> FieldError:
    """Turn msgspec's `... - at `$.a.b`` message into a FieldError for `a.b`."""
    text = str(exc)
    path, msg = "", text
    if m := _AT.match(text):
        path = m["path"].replace("[", ".").replace("]", "").lstrip(".")
        msg = m["msg"]
    if m := _FIELD.match(msg):
        path = f"{path}.{m['name']}" if path else m["name"]
        msg = m["msg"]
    if m := _MISSING.match(msg):
        path = f"{path}.{m['name']}" if path else m["name"]
        msg = "required field is missing"
    if (m := _REGEX.match(msg)) and (readable := PATTERN_MESSAGES.get(_unrepr(m["pattern"]))):
        msg = readable
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    return FieldError(path, msg)


def _unrepr(text: str) -> str:
    """A pattern as msgspec quotes it in its message (the repr's backslashes doubled) → as written."""
    return text.replace("\\\\", "\\")
