"""Rotating the county's receipt key (`tongxin county rotate-key`), with an overlap.

A new key is made; the old one is kept beside the key file (`<key file>.<old key id>`, 0600) and
the handover statement — signed by both keys, or by the new one alone when the old one is
compromised — is stored in the database. From the next start of `county serve` / `county ingest`
receipts are signed by the new key and, until the overlap ends, co-signed by the old one, and
every receipt carries the handover: a node that trusts the old key accepts them and adopts the
new one; a node given the new key accepts them too. After a compromise there is no overlap and
nothing to adopt: give every node the new key by hand (`tongxin node county-key set HEX`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from services.county.db.key_tables import county_key_handovers
from services.county.keys import handovers, previous_key_path
from shared import county_key
from shared.county_key import Handover
from shared.envelope import format_time
from shared.errors import FieldError
from shared.signing import Signer


@dataclass(frozen=True)
class Rotated:
    handover: Handover
    new: Signer
    kept: Path | None
    """Where the previous key was kept (None after a compromise: it must not sign again)."""
    staged: Path
    """The new key's file, until `install` puts it in the key file's place."""

    def install(self, path: Path) -> None:
        """After the commit: the key file names the new key from here on."""
        os.replace(self.staged, path)


def rotate(
    conn: Connection,
    path: Path,
    county_id: str,
    *,
    overlap: timedelta,
    compromised: bool = False,
    now: datetime | None = None,
) -> Rotated:
    """Make a new county key for `path`, the handover from the one there now stored in `conn`'s
    transaction; the caller commits, then `install`s the new key. Refuses while a previous
    overlap still runs (unless the key is compromised), and without a key at `path`."""
    now = now or datetime.now(UTC)
    try:
        old = Signer.load(path)
    except FileNotFoundError:
        raise FieldError("county_key", f"no county key at {path} to rotate from") from None
    made_at = format_time(now)
    running = [h for h in handovers(conn) if h.key_id == old.key_id and h.overlap_until > made_at]
    if running and not compromised:
        raise FieldError(
            "overlap",
            f"the overlap of key {old.key_id} with {running[-1].prev_key_id} runs until "
            f"{running[-1].overlap_until}: rotate again after it (or --compromised)",
        )
    new = Signer.generate()
    handover = county_key.hand_over(
        None if compromised else old,
        new,
        prev_public_key=old.public_key_hex,
        county_id=county_id,
        made_at=made_at,
        overlap_until=format_time(now + overlap),
    )
    conn.execute(
        county_key_handovers.insert().values(
            key_id=new.key_id,
            prev_key_id=old.key_id,
            made_at=handover.made_at,
            overlap_until=handover.overlap_until,
            statement=county_key.encode(handover).decode(),
        )
    )
    kept = None if compromised else previous_key_path(path, old.key_id)
    staged = path.with_name(f"{path.name}.new")
    staged.unlink(missing_ok=True)
    new.save(staged)
    if kept is not None and not kept.exists():
        old.save(kept)
    return Rotated(handover, new, kept, staged)
