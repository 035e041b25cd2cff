"""The county's own Ed25519 key, which signs its receipts, and the keys it handed over from.

The key file (`tongxin-county.key`, `--county-key`) always holds the current key. After a
rotation (`services/county/key_rotation.py`) the previous key is kept beside it as
`<key file>.<key id>` and co-signs receipts until its overlap ends; the handover statements are
in the database (`county_key_handovers`), and every receipt carries them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from services.county.db.key_tables import county_key_handovers
from shared import county_key
from shared.county_key import Handover
from shared.envelope import format_time
from shared.private_files import private_parents
from shared.signing import Signer

DEFAULT_COUNTY_KEY = Path("tongxin-county.key")


def load_or_create(path: Path) -> Signer:
    """The key at `path`, created (mode 0600) on first use."""
    try:
        return Signer.load(path)
    except FileNotFoundError:
        private_parents(path)
        signer = Signer.generate()
        try:
            signer.save(path)
        except FileExistsError:  # another process created it first
            return Signer.load(path)
        os.chmod(path, 0o600)
        return signer


def previous_key_path(path: Path, key_id: str) -> Path:
    """Where a rotation keeps the key it replaced: beside the key file, named by its id."""
    return path.with_name(f"{path.name}.{key_id}")


@dataclass
class CountySigning:
    """How the county signs a receipt now: its current key, the previous one co-signing until
    `overlap_until` (while its file is there), and the handovers every receipt carries."""

    signer: Signer
    previous: Signer | None = None
    overlap_until: str | None = None
    handovers: list[Handover] = field(default_factory=list)

    def cosigners(self, now: str | None = None) -> list[Signer]:
        now = now or format_time(datetime.now(UTC))
        if self.previous is None or self.overlap_until is None or now > self.overlap_until:
            return []
        return [self.previous]


def handovers(conn: Connection) -> list[Handover]:
    """Every handover the county made, oldest first."""
    h = county_key_handovers.c
    rows = conn.execute(select(h.statement).order_by(h.made_at, h.key_id)).scalars()
    return [county_key.decode(text) for text in rows]


def load_signing(path: Path, engine: Engine) -> CountySigning:
    """The county's signing as of now: the key at `path` (created on first use), with the
    previous key while its overlap lasts and the handovers published with every receipt
    (a compromised key's handover is not published: nodes adopt nothing from it)."""
    signer = load_or_create(path)
    with engine.connect() as conn:
        made = handovers(conn)
    published = [h for h in made if not h.compromised]
    own = next((h for h in reversed(made) if h.key_id == signer.key_id), None)
    previous = None
    if own is not None and not own.compromised:
        try:
            previous = Signer.load(previous_key_path(path, own.prev_key_id))
        except FileNotFoundError:
            previous = None
    return CountySigning(signer, previous, own.overlap_until if own else None, published)
