"""The id patterns, written once: slugs (nodes, counties, organisations) and member ids."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""A node, county or organisation id: lowercase letters, digits, `-` and `_`, 1–64 long, not
starting with `-` or `_` (so `-` can name "unregistered" in a filter without clashing)."""
MEMBER_ID_PATTERN = r"^[0-9a-f]{32}$"
"""A member (or candidate) id: 128 bits in lowercase hex."""


def whole(pattern: str) -> str:
    """A `^…$` pattern as a msgspec `Meta` needs it: msgspec matches with Python's `re`, whose `$`
    also matches before a final newline, so `dongguan\\n` would pass as a slug; the lookahead ends
    the string there (and reads the same in JSON Schema's regular expressions)."""
    return pattern + r"(?!\n)"


Slug = Annotated[str, msgspec.Meta(pattern=whole(SLUG_PATTERN), description="an id such as `dongguan`")]

_SLUG = re.compile(SLUG_PATTERN)
_MEMBER_ID = re.compile(MEMBER_ID_PATTERN)


def is_slug(text: str) -> bool:
    return _SLUG.fullmatch(text) is not None


def is_member_id(text: str) -> bool:
    return _MEMBER_ID.fullmatch(text) is not None
