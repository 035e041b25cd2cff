"""The county keys this node trusts to sign receipts and re-send requests (`county-keys.json`).

A node is given the county's public key at `node init --county-public-key` (node.json) or later
with `tongxin node county-key add|set HEX`; from the first change on, the keys live in
`county-keys.json` in the data dir. When the county rotates its key, its receipts carry the
handover (`shared.county_key`): a handover signed by a key this node trusts names the new key,
which this node then trusts too (and says so in its log). The key handed over from stops being
trusted once a receipt signed by another trusted key was issued after the handover's overlap
ended — from then on the county signs with the new key alone. A node without any county key
accepts every receipt, unchecked: `node serve` warns, `node status` says so.

The file is re-read when it changes, so `county-key add` takes effect in a running `node serve`.
Giving a key already trusted changes nothing (how it came, a handover's overlap are kept). There
is no "valid from" to give: a trusted key counts for every receipt it signed, and when a key's
trust ends is what a handover's overlap says, taken from the county's own signed statement.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from shared.county_key import Handover
from shared.envelope import format_time
from shared.errors import FieldError
from shared.private_files import write_private
from shared.receipt import Receipt
from shared.signing import Verifier

log = logging.getLogger("tongxin.node.county_key")

TRUST_FILE = "county-keys.json"


class TrustedKey(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    public_key: str
    source: str
    """How it came: "init", "added", "set", or "handover from <key id>"."""
    added_at: str
    handed_over_until: str | None = None
    """Set when a handover named its successor: the end of that overlap."""


class TrustFile(msgspec.Struct, kw_only=True):
    keys: list[TrustedKey] = []


def parse_key(public_key_hex: str) -> Verifier:
    try:
        public = bytes.fromhex(public_key_hex.strip())
    except ValueError:
        raise FieldError("county_public_key", "must be 64 hex digits") from None
    if len(public) != 32:
        raise FieldError("county_public_key", "must be an Ed25519 public key: 32 bytes, 64 hex digits")
    return Verifier(public)


class CountyTrust:
    """The trusted county keys of one data dir; `initial` is node.json's `county_public_key`."""

    def __init__(self, directory: Path, initial: str | None) -> None:
        self.path = directory / TRUST_FILE
        self.initial = initial
        self.lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: list[TrustedKey] = []

    def trusted(self) -> list[TrustedKey]:
        """The trusted keys, re-read if the file changed."""
        with self.lock:
            return list(self._load())

    def verifiers(self) -> list[Verifier]:
        return [Verifier.from_hex(k.public_key) for k in self.trusted()]

    def _load(self) -> list[TrustedKey]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if self.initial is None:
                return []
            key = parse_key(self.initial)
            return [TrustedKey(key_id=key.key_id, public_key=self.initial, source="init", added_at="")]
        if (st.st_mtime_ns, st.st_size) != self._stamp:
            self._keys = msgspec.json.decode(self.path.read_bytes(), type=TrustFile).keys
            self._stamp = (st.st_mtime_ns, st.st_size)
        return self._keys

    def _save(self, keys: list[TrustedKey]) -> None:
        write_private(self.path, msgspec.json.format(msgspec.json.encode(TrustFile(keys=keys))) + b"\n")
        self._keys, self._stamp = keys, None

    def add(self, public_key_hex: str, *, replace: bool = False) -> tuple[TrustedKey, bool]:
        """Trust this key too (`replace`: this key alone); and whether anything changed. A key
        already trusted (alone, with `replace`) is left as it is — how it came, and the end of
        a handover's overlap if it was handed over from: adding it again changes nothing."""
        key = parse_key(public_key_hex)
        with self.lock:
            current = self._load()
            held = next((k for k in current if k.key_id == key.key_id), None)
            if held is not None and (not replace or len(current) == 1):
                return held, False
            new = TrustedKey(
                key_id=key.key_id,
                public_key=key.public_key.hex(),
                source="set" if replace else "added",
                added_at=format_time(datetime.now(UTC)),
            )
            self._save([*([] if replace else current), new])
        return new, True

    def check(self, r: Receipt) -> bool:
        """Whether a trusted key signed (or co-signed) `r` — a key handed over counts only for a
        receipt issued by the end of its overlap — after adopting the keys its handovers name from
        trusted ones; then the keys handed over before `r` was issued are trusted no more."""
        with self.lock:
            keys = self._load()
            if not keys:
                return False
            keys = self._adopt(keys, r.handovers)
            current = [k for k in keys if k.handed_over_until is None or r.issued_at <= k.handed_over_until]
            by = r.signed_by([Verifier.from_hex(k.public_key) for k in current])
            if by is None:
                return False
            self._retire(keys, by.key_id, r.issued_at)
            return True

    def _adopt(self, keys: list[TrustedKey], handovers: list[Handover]) -> list[TrustedKey]:
        changed = False
        for h in handovers:
            trusted = {k.key_id: k for k in keys}
            prev = trusted.get(h.prev_key_id)
            if prev is None or prev.public_key != h.prev_public_key or not h.signed_by_prev():
                continue
            if not h.signed_by_new():
                continue
            if h.key_id not in trusted:
                now = format_time(datetime.now(UTC))
                keys = [
                    *keys,
                    TrustedKey(
                        key_id=h.key_id,
                        public_key=h.public_key,
                        source=f"handover from {h.prev_key_id}",
                        added_at=now,
                    ),
                ]
                log.warning("adopted the county's new key", extra={"key_id": h.key_id, "from": h.prev_key_id})
            if prev.handed_over_until != h.overlap_until:
                keys = [
                    msgspec.structs.replace(k, handed_over_until=h.overlap_until)
                    if k.key_id == prev.key_id
                    else k
                    for k in keys
                ]
            changed = True
        if changed and keys != self._load():
            self._save(keys)
        return keys

    def _retire(self, keys: list[TrustedKey], by: str, issued_at: str) -> None:
        kept = [
            k
            for k in keys
            if k.key_id == by or k.handed_over_until is None or issued_at <= k.handed_over_until
        ]
        if len(kept) < len(keys):
            for k in keys:
                if k not in kept:
                    log.warning(
                        "no longer trusts a county key it handed over from", extra={"key_id": k.key_id}
                    )
            self._save(kept)
