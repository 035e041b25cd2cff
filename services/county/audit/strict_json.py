"""Strict JSON for what an audit reads from outside (export lines, node receipts): a member name
given twice in one object is refused, since JSON readers disagree on which one counts.

msgspec, which decodes envelopes and receipts, keeps the last of a repeated key without saying
so; the stdlib's `json` with an `object_pairs_hook` finds the repeat, but parses a line about as
slowly as msgspec decodes and checks it (≈ 21 µs against 22 µs for a 700-byte envelope here).
So lines are first compared with their own canonical encoding, which cannot repeat a key and
which is how Tongxin writes every line: only a line that is not canonical is parsed again.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple


class DuplicateKeyError(ValueError):
    """An object names the same member twice; `key` is the repeated name."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears twice in one object")
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKeyError(key)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_loads(data: bytes) -> Any:
    """The JSON value of `data`; ValueError (DuplicateKeyError for a repeated key) if it is not
    strict JSON. Lone surrogate escapes (`\\ud800`) pass here, as the stdlib allows them: they
    are no text, and fail wherever the value is encoded again."""
    return json.loads(data, object_pairs_hook=_unique, parse_constant=_no_constant)


def repeated_key(data: bytes) -> str | None:
    """The first key `data` repeats within one object, or None (also when it is no JSON the stdlib
    reads, e.g. nested past its recursion limit: the decoder that refused it says why)."""
    try:
        strict_loads(data)
    except DuplicateKeyError as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None


class Claimed(NamedTuple):
    """What a line that is no valid envelope says of itself."""

    node_id: str
    seq: int
    hash: str | None
    no_text: str | None
    """Why it holds no text no node can have signed: not UTF-8, or a lone surrogate escape."""


def claimed(data: bytes) -> Claimed | None:
    """Where a line that is no valid envelope claims to belong, if it is JSON at all: the stdlib
    reads what msgspec refuses (invalid UTF-8 read as escapes, a lone surrogate escape)."""
    try:
        data.decode()
        no_text = None
    except UnicodeDecodeError as exc:
        no_text = f"it is not UTF-8 ({exc.reason} at byte {exc.start})"
    try:
        value = json.loads(data.decode(errors="surrogateescape"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    node, seq, stated = value.get("node_id"), value.get("seq"), value.get("hash")
    if not isinstance(node, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    if no_text is None:
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            no_text = "a string holds a lone surrogate escape, which is no text"
    return Claimed(node, seq, stated if isinstance(stated, str) else None, no_text)
