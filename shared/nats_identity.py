"""Who a process is to NATS: an nkey user seed, and for a node its own inbox prefix.

Tongxin uses NATS *nkeys* (Ed25519 key pairs the server authenticates by challenge), listed with
their permissions in the server's authorization config, rather than NATS JWTs (operator → account
→ user, with a resolver): one county runs one NATS deployment, so the operator/account layer and
its tooling (nsc) would add keys to guard and a resolver to run without adding a boundary. The
seed never leaves the machine it was made on (only its public key, `U…`, is given to the county),
and revocation is an edit of the server's user list applied by a config reload, which closes the
revoked user's connections (`shared.nats_access`).
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

SEED_FILE = "nats.seed"
"""A node's NATS seed in its data dir (mode 0600), made by `tongxin node init`."""


def new_seed() -> str:
    """A fresh nkey *user* seed (`SU…`)."""
    seed: bytes = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    return seed.decode()


def public_key(seed: str) -> str:
    """The public key (`U…`) of a user seed."""
    pair = nkeys.from_seed(bytearray(seed.strip().encode()))
    try:
        key: bytes = pair.public_key
        return key.decode()
    finally:
        pair.wipe()


def is_user_key(text: str) -> bool:
    """Whether `text` is an nkey user public key: `U…`, base32 of the prefix byte, 32 key bytes and
    their CRC-16 (as nkeys encodes it)."""
    if len(text) != 56 or not text.startswith("U"):
        return False
    try:
        raw = base64.b32decode(text)  # 56 characters: 35 bytes, no padding
    except binascii.Error:
        return False
    body, crc = raw[:-2], raw[-2:]
    return len(body) == 33 and body[0] == nkeys.PREFIX_BYTE_USER and nkeys.crc16_checksum(body) == crc


def write_seed(path: Path, seed: str) -> None:
    """Write a seed to a new file readable by its owner only (never overwrites one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(seed + "\n")


def node_inbox(node_id: str) -> str:
    """A node's inbox prefix: replies to it (JetStream acks, its receipt) arrive under it, and its
    permissions let it subscribe there only, so no node reads another's replies."""
    return f"_INBOX_{node_id}"


@dataclass(frozen=True)
class NatsIdentity:
    """The options `nats.connect` needs to connect as someone: a seed, an inbox prefix, and the CA
    that signed the server's TLS certificate (when the server's is not in the system's store).

    `server_cert` is for the process that started the server itself (`tongxin nats`,
    `EmbeddedNats.identity`): it trusts exactly the certificate it gave the server (the file's
    first, whatever CA signed it; the names in it unchecked, the server may listen on 0.0.0.0) and,
    with `client_key`, presents it when the server requires client certificates (`--tls-ca`)."""

    seed: str | None = None
    inbox_prefix: str | None = None
    ca_file: Path | None = None
    server_cert: Path | None = None
    client_key: Path | None = None

    @classmethod
    def from_file(
        cls, path: Path | None, inbox_prefix: str | None = None, ca_file: Path | None = None
    ) -> NatsIdentity:
        """The seed in `path` (None or a missing file: anonymous, for a server without users)."""
        if path is None or not path.exists():
            return cls(None, inbox_prefix, ca_file)
        return cls(path.read_text().strip(), inbox_prefix, ca_file)

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.seed is not None:
            out["nkeys_seed_str"] = self.seed
        if self.inbox_prefix is not None:
            out["inbox_prefix"] = self.inbox_prefix
        if self.server_cert is not None:
            out["tls"] = self._pinned(self.server_cert, self.client_key)
        elif self.ca_file is not None:
            out["tls"] = ssl.create_default_context(cafile=str(self.ca_file))
        return out

    @staticmethod
    def _pinned(cert: Path, key: Path | None) -> ssl.SSLContext:
        """A context trusting the one certificate first in `cert` (a leaf as its own anchor)."""
        text = cert.read_text()
        end = "-----END CERTIFICATE-----"
        first = text[text.index("-----BEGIN CERTIFICATE-----") : text.index(end) + len(end)]
        context = ssl.create_default_context(cadata=first)
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.check_hostname = False
        if key is not None:
            context.load_cert_chain(str(cert), str(key))
        return context


ANONYMOUS = NatsIdentity()
