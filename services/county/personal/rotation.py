"""Rotating the county's master key for personal data (`tongxin county personal-key rotate`).

Every member key in the key store is unwrapped with the old master key and wrapped again under a
new one in one transaction; the identity index (keyed by a key derived from the master key) is
dropped and made again under the new one. The new key is written to `<key>.new` (0600) before the
transaction and moved into place after it commits; the old one stays as `<key>.old` until the
operator has backed up the new key and deletes it. A rotation interrupted between the commit and
the rename is finished (or undone, if the transaction did not commit) by running the command
again: the key that opens the store's keys is the one kept.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, select, update

from services.county.personal.index import index_members
from services.county.personal.master import MasterKey, MasterKeyError
from services.county.personal.store import KeyStore
from services.county.personal.tables import identity_index, member_keys


@dataclass(frozen=True)
class Rotated:
    rewrapped: int
    reindexed: int
    old: Path
    resumed: str = ""
    """What an interrupted rotation found and did, if there was one."""


def _new(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def _old(path: Path) -> Path:
    return path.with_name(path.name + ".old")


def _opens(engine: Engine, master: MasterKey) -> bool | None:
    """Whether `master` opens the store's first key (None: the store is empty)."""
    with engine.connect() as conn:
        row = conn.execute(select(member_keys).limit(1)).mappings().first()
    if row is None:
        return None
    return master.unwrap(row["member_id"], row["key_id"], row["wrapped"]) is not None


def resume(engine: Engine, path: Path) -> str:
    """Finish or undo a rotation that stopped between its transaction and its rename."""
    pending = _new(path)
    if not pending.exists():
        return ""
    if _opens(engine, MasterKey.load_or_create(pending)):
        os.replace(path, _old(path))
        os.replace(pending, path)
        return f"an interrupted rotation was finished: {path} is the new key, {_old(path)} the old"
    pending.unlink()
    return f"an interrupted rotation had not committed: {pending} removed, {path} kept"


def rotate(engine: Engine, path: Path) -> Rotated:
    if not path.exists():
        raise MasterKeyError(f"{path}: no master key to rotate (is --personal-key right?)")
    resumed = resume(engine, path)
    old = MasterKey.load_or_create(path)
    if _opens(engine, old) is False:
        raise MasterKeyError(f"{path} does not open the key store's keys: not this county's master key")
    new = MasterKey(secrets.token_bytes(32))
    pending = _new(path)
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(new.key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    rewrapped = 0
    try:
        with engine.begin() as conn:
            k = member_keys.c
            for member_id, key_id, wrapped in conn.execute(select(k.member_id, k.key_id, k.wrapped)).all():
                key = old.unwrap(member_id, key_id, wrapped)
                if key is None:
                    raise MasterKeyError(f"member {member_id}'s key {key_id} does not open under {path}")
                conn.execute(
                    update(member_keys)
                    .where(k.member_id == member_id, k.key_id == key_id)
                    .values(wrapped=new.wrap(member_id, key_id, key))
                )
                rewrapped += 1
            conn.execute(delete(identity_index))
            reindexed = index_members(conn, KeyStore(new))
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    os.replace(path, _old(path))
    os.replace(pending, path)
    return Rotated(rewrapped, reindexed, _old(path), resumed)
