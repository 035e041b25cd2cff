"""Bounds on what Tongxin takes from outside, checked where bytes first become values.

Nesting depth (before any JSON parser recurses), integers both databases store, real calendar
times in a sane range, and text without control characters. The node refuses what breaks them at
its edges (HTTP, CLI, import), naming the field; the county quarantines it on its first delivery
with a reason of its own. docs/envelope.md §11 lists them for auditors.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from shared.errors import PATTERN_MESSAGES, FieldError

MAX_DEPTH = 32
"""JSON nesting depth accepted anywhere (an envelope needs 4: envelope, payload, personal or a
list, a list's object). msgspec and Python's json recurse once per level and raise RecursionError
near 1,000, so the depth is checked on the bytes first."""

MAX_SEQ = 2**53
"""The highest seq an envelope may carry: below the 2^63 - 1 both databases store (BIGINT), and
exact in every JSON reader that reads numbers as doubles (JavaScript, jq)."""

MAX_SCHEMA = 2**31 - 1
"""The highest schema version: the archive stores it as a 32-bit INTEGER."""

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""No time (`occurred_at`, `recorded_at`) or past date of an event lies before this."""
EARLIEST_DATE: date = EARLIEST.date()
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Nor at or after this: the county refuses a node clock more than a day ahead of its own
(`clock_skew`) anyway; this keeps time arithmetic far from datetime's year 9999."""

TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]*$"
"""Text as the catalog takes it: no C0 control character but tab and newline, no DEL, no C1
control (U+0080–U+009F), no lone surrogate (it has no UTF-8 form). PostgreSQL's text cannot hold
NUL while SQLite's can: refusing these keeps both databases alike. U+2028 and U+2029 are text."""

PATTERN_MESSAGES[TEXT_PATTERN] = (
    "must not contain control characters (U+0000–U+001F but tab and newline, U+007F–U+009F) "
    "or lone surrogates"
)

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class TooDeepError(FieldError):
    """JSON nested deeper than MAX_DEPTH."""


def check_depth(data: bytes | str, field: str = "", limit: int = MAX_DEPTH) -> None:
    """Raise TooDeepError when `data`, as JSON, nests arrays and objects deeper than `limit`.

    Iterative and cheap: when the text holds at most `limit` brackets it cannot nest deeper (two
    `count`s); otherwise its strings are cut out and the brackets left are counted in one pass."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            raise TooDeepError(field, f"nested deeper than {limit} levels")
