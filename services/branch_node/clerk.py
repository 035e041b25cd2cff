"""The clerk's credentials on disk: one password, a one-time sign-in token, named bearer tokens.

Design (docs/operations.md §12 says it for county IT):

- One clerk account per node. An outstation has one PC and one clerk (whoever stands in signs
  in as the clerk); the node holds personal data of its members only, so accounts per person
  would add names to manage, not protection.
- `clerk.json` in the node's data dir, mode 0600, holds only what cannot be turned back into a
  credential: the password's Argon2id hash (`shared.credentials`), the SHA-256 of the one-time
  sign-in token, the SHA-256 of each bearer token under its name, and an `epoch` that moves
  whenever the password is set, so that every session signed in before ends.
- `node init` makes the one-time sign-in token and prints it (or sets the password from
  `--clerk-password-file`). The token is single-use: signing in with it burns it and gives a
  session that may do one thing, set the password (the page asks for one at once). It was shown
  in a terminal and may linger in scrollback or an install log; once used it is worth nothing,
  and what guards the node from then on is a password the clerk chose. Setting a password (on the
  page or with `node passwd`) also drops an unused token.
- Bearer tokens (`node token add NAME`, shown once) are for programs: the demo, the soak,
  Prometheus. They carry no cookie, so they need no CSRF token.
- Writes are atomic (a temporary file, fsync, rename) under an flock, so `node serve` (which burns
  the sign-in token, sets a password from the page) and the CLI (`node passwd`, `node token`)
  may write while the other runs. The server reads the file at every request that needs it, so
  a revoked token or a new password counts at the next request, with no restart.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from shared.credentials import hash_password, needs_rehash, new_token, same, token_digest, verify_password
from shared.ids import is_slug

CLERK_FILE = "clerk.json"
LOCK_FILE = "clerk.lock"
FORMAT = 1


class BearerToken(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    digest: str
    """SHA-256 of the token, hex."""
    created_at: str


class ClerkState(msgspec.Struct, frozen=True, kw_only=True):
    """clerk.json."""

    format: int = FORMAT
    password: str | None = None
    """The Argon2id hash (PHC string), or None before one is set."""
    signin_token: str | None = None
    """SHA-256 of the unused one-time sign-in token, or None."""
    epoch: int = 0
    """Moves with every password set: sessions of an older epoch are over."""
    tokens: tuple[BearerToken, ...] = ()


class ClerkFileError(RuntimeError):
    """clerk.json cannot be read (edited by hand, a disk fault)."""


class Clerk:
    """The clerk's credentials of one data dir; safe to share between threads."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / CLERK_FILE
        self._lock = threading.Lock()

    def state(self) -> ClerkState:
        """What clerk.json holds now (an empty state when there is none yet). Read afresh each time
        (a few hundred bytes): a change by another process counts at once, and no cache can be
        stale."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return ClerkState()
        try:
            return msgspec.json.decode(data, type=ClerkState)
        except msgspec.DecodeError as exc:
            raise ClerkFileError(f"{self.path}: {exc}") from None

    # ---- the password and the one-time sign-in token ----------------------------------------

    def set_password(self, password: str) -> None:
        """Hash and keep `password` (WeakPasswordError when too short or long); ends every session
        and drops an unused sign-in token."""
        hashed = hash_password(password)
        self._update(
            lambda s: msgspec.structs.replace(s, password=hashed, signin_token=None, epoch=s.epoch + 1)
        )

    def check_password(self, password: str) -> bool:
        """Whether `password` is the clerk's (False when none is set); a hash made with weaker
        parameters than today's is replaced on the way."""
        stored = self.state().password
        if stored is None or not verify_password(stored, password):
            return False
        if needs_rehash(stored):
            rehashed = hash_password(password)
            self._update(
                lambda s: msgspec.structs.replace(s, password=rehashed) if s.password == stored else s
            )
        return True

    def new_signin_token(self) -> str:
        """A fresh one-time sign-in token, to show once (it replaces an unused one)."""
        token = new_token()
        self._update(lambda s: msgspec.structs.replace(s, signin_token=token_digest(token)))
        return token

    def use_signin_token(self, token: str) -> bool:
        """Burn the one-time sign-in token if `token` is it; False when it is not (or was used)."""
        digest = token_digest(token)
        used = False

        def burn(s: ClerkState) -> ClerkState:
            nonlocal used
            used = s.signin_token is not None and same(s.signin_token, digest)
            return msgspec.structs.replace(s, signin_token=None) if used else s

        if self.state().signin_token is None:
            return False
        self._update(burn)
        return used

    # ---- bearer tokens -----------------------------------------------------------------------

    def add_token(self, name: str) -> str:
        """A new bearer token named `name` (a slug), to show once; ValueError if the name is taken."""
        if not is_slug(name):
            raise ValueError(f"token name {name!r}: lowercase letters, digits, - and _ (e.g. `prometheus`)")
        token = new_token()
        entry = BearerToken(name=name, digest=token_digest(token), created_at=datetime.now(UTC).isoformat())

        def add(s: ClerkState) -> ClerkState:
            if any(t.name == name for t in s.tokens):
                raise ValueError(f"a token named {name!r} exists; revoke it first")
            return msgspec.structs.replace(s, tokens=(*s.tokens, entry))

        self._update(add)
        return token

    def revoke_token(self, name: str) -> bool:
        """Remove the bearer token `name`; False when there is none by that name."""
        found = False

        def drop(s: ClerkState) -> ClerkState:
            nonlocal found
            kept = tuple(t for t in s.tokens if t.name != name)
            found = len(kept) != len(s.tokens)
            return msgspec.structs.replace(s, tokens=kept)

        self._update(drop)
        return found

    def bearer(self, token: str) -> str | None:
        """The name of the bearer token `token` is, or None; every stored digest is compared, in
        constant time each."""
        digest = token_digest(token)
        found = None
        for entry in self.state().tokens:
            if same(entry.digest, digest):
                found = entry.name
        return found

    # ---- the file ----------------------------------------------------------------------------

    def _update(self, change: Callable[[ClerkState], ClerkState]) -> ClerkState:
        with self._lock, _flocked(self.path.parent / LOCK_FILE):
            before = self.state()
            after = change(before)
            if after is not before:
                _write(self.path, msgspec.json.format(msgspec.json.encode(after)) + b"\n")
            return after


@contextmanager
def _flocked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(path: Path, data: bytes) -> None:
    """Replace `path` by `data` (mode 0600) atomically: a reader sees the old file or the new."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a crash's leftover: O_EXCL makes the new one 0600 for sure
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
