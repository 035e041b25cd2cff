"""The county's master key for personal data: a file outside the database (`--personal-key`).

32 random bytes in hex, made (mode 0600) on first use, by default beside the county key file. Two
keys are derived from it: one wraps every member key in the key store, one keys the identity
index. Lose it and the key store opens nothing; keep it out of the database's backups' reach
(docs/operations.md). It never goes into the archive or a stream.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

DEFAULT_NAME = "tongxin-county-personal.key"


def default_path(county_key: Path) -> Path:
    """Beside the county key file."""
    return county_key.with_name(DEFAULT_NAME)


class MasterKeyError(ValueError):
    """A master key file that is not 64 hex digits."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @classmethod
    def load_or_create(cls, path: Path) -> MasterKey:
        """The key at `path`, created (0600) on first use; an existing file is made 0600 too."""
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(32)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                return cls.load_or_create(path)
            with os.fdopen(fd, "w") as f:
                f.write(key.hex() + "\n")
            return cls(key)
        os.chmod(path, 0o600)
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise MasterKeyError(f"{path}: not a personal-data master key (64 hex digits)")
        return cls(key)

    def _derived(self, label: bytes) -> bytes:
        return hashlib.blake2b(label, key=self.key, digest_size=32).digest()

    @property
    def index_key(self) -> bytes:
        """The identity index's key (`shared.personal.identity_digest`)."""
        return self._derived(b"tongxin county identity index v1")

    def _box(self) -> SecretBox:
        return SecretBox(self._derived(b"tongxin county member key wrap v1"))

    def wrap(self, member_id: str, key_id: str, key: bytes) -> str:
        plain = f"{member_id}:{key_id}:".encode("ascii") + key
        return base64.b64encode(bytes(self._box().encrypt(plain))).decode("ascii")

    def unwrap(self, member_id: str, key_id: str, wrapped: str) -> bytes | None:
        """The member key, or None if the box does not open or names another member or key."""
        try:
            plain = bytes(self._box().decrypt(base64.b64decode(wrapped)))
        except (CryptoError, ValueError):
            return None
        prefix = f"{member_id}:{key_id}:".encode("ascii")
        return plain[len(prefix) :] if plain.startswith(prefix) else None
