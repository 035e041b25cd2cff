"""Accounts, sessions and bearer tokens over the county's database.

A session (the dashboard's cookie) lives `SESSION_IDLE` after its last use and at most
`SESSION_MAX`; its CSRF value is kept as a digest beside it. A bearer token (for scripts) lives
until its expiry or revocation. Changing a password or disabling an account ends every session
and token of it. Rows are in the database, so several county processes share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, delete, insert, select, update

from services.county.accounts.roles import Role
from services.county.accounts.tables import account_tokens, accounts
from shared.credentials import hash_password, needs_rehash, new_token, token_digest, verify_password
from shared.envelope import format_time

SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=24)
TOKEN_DAYS = 90
TOUCH_EVERY = timedelta(minutes=5)
"""A session's last use is written at most this often (not on every request)."""
_DUMMY = hash_password("tongxin-no-such-account")
"""Verified against when the username is unknown, so that the answer takes as long either way."""


class TokenKind(StrEnum):
    SESSION = "session"
    BEARER = "bearer"


class AccountError(ValueError):
    """A refused change to an account, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Principal:
    """Who a request is: an account, its role and (for a township officer) its township."""

    username: str
    role: Role
    township: str | None
    token_digest: str
    kind: TokenKind
    csrf_digest: str | None = None


@dataclass(frozen=True)
class Issued:
    token: str
    csrf: str | None
    expires_at: str


def _now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, username: str, role: Role, password: str, township: str | None = None) -> None:
        if role is Role.TOWNSHIP_OFFICER and not township:
            raise AccountError("township", "a township officer needs --township")
        if role is not Role.TOWNSHIP_OFFICER and township:
            raise AccountError("township", "only a township officer has a township")
        stored, now = hash_password(password), format_time(_now())
        with self.engine.begin() as conn:
            if conn.execute(select(accounts.c.username).where(accounts.c.username == username)).first():
                raise AccountError("username", f"account {username!r} exists")
            conn.execute(
                insert(accounts).values(
                    username=username,
                    role=role.value,
                    township=township,
                    password_hash=stored,
                    disabled=False,
                    created_at=now,
                    changed_at=now,
                )
            )

    def set_password(self, username: str, password: str) -> None:
        stored = hash_password(password)
        self._change(username, password_hash=stored)

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._change(username, disabled=disabled)

    def _change(self, username: str, **values: object) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(
                update(accounts)
                .where(accounts.c.username == username)
                .values(**values, changed_at=format_time(_now()))
            )
            if found.rowcount != 1:
                raise AccountError("username", f"no account {username!r}")
            conn.execute(delete(account_tokens).where(account_tokens.c.username == username))

    def list(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.username)).mappings().all()
            tokens = conn.execute(select(account_tokens.c.username, account_tokens.c.kind)).all()
        live: dict[str, dict[str, int]] = {}
        for user, kind in tokens:
            live.setdefault(user, {}).setdefault(kind, 0)
            live[user][kind] += 1
        return [
            {
                "username": r["username"],
                "role": r["role"],
                "township": r["township"],
                "disabled": bool(r["disabled"]),
                "changed_at": r["changed_at"],
                "sessions": live.get(r["username"], {}).get("session", 0),
                "tokens": live.get(r["username"], {}).get("bearer", 0),
            }
            for r in rows
        ]

    def authenticate(self, username: str, password: str) -> bool:
        """Whether the password is the enabled account's (rehashed if its parameters aged)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.username == username)).mappings().first()
        if row is None:
            verify_password(_DUMMY, password)
            return False
        if not verify_password(row["password_hash"], password) or row["disabled"]:
            return False
        if needs_rehash(row["password_hash"]):
            with self.engine.begin() as conn:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.username == username)
                    .values(password_hash=hash_password(password))
                )
        return True

    def issue(self, username: str, kind: TokenKind, label: str = "", days: int = TOKEN_DAYS) -> Issued:
        """A new session (with its CSRF value) or bearer token for the account; shown once."""
        token, now = new_token(), _now()
        csrf = new_token() if kind is TokenKind.SESSION else None
        expires = now + (SESSION_MAX if kind is TokenKind.SESSION else timedelta(days=days))
        with self.engine.begin() as conn:
            if (
                conn.execute(select(accounts.c.username).where(accounts.c.username == username)).first()
                is None
            ):
                raise AccountError("username", f"no account {username!r}")
            conn.execute(
                insert(account_tokens).values(
                    digest=token_digest(token),
                    username=username,
                    kind=kind.value,
                    label=label,
                    csrf_digest=token_digest(csrf) if csrf else None,
                    created_at=format_time(now),
                    expires_at=format_time(expires),
                    last_used_at=format_time(now),
                )
            )
        return Issued(token, csrf, format_time(expires))

    def resolve(self, token: str, kind: TokenKind) -> Principal | None:
        """The principal a live token of `kind` stands for, or None (unknown, expired, disabled)."""
        digest, now = token_digest(token), _now()
        query = (
            select(account_tokens, accounts.c.role, accounts.c.township, accounts.c.disabled)
            .join(accounts, accounts.c.username == account_tokens.c.username)
            .where(account_tokens.c.digest == digest, account_tokens.c.kind == kind.value)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["disabled"] or row["expires_at"] <= format_time(now):
            return None
        if kind is TokenKind.SESSION:
            if row["last_used_at"] <= format_time(now - SESSION_IDLE):
                return None
            if row["last_used_at"] <= format_time(now - TOUCH_EVERY):
                with self.engine.begin() as conn:
                    conn.execute(
                        update(account_tokens)
                        .where(account_tokens.c.digest == digest)
                        .values(last_used_at=format_time(now))
                    )
        return Principal(
            row["username"], Role(row["role"]), row["township"], digest, kind, row["csrf_digest"]
        )

    def revoke(self, digest: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(account_tokens).where(account_tokens.c.digest == digest))

    def revoke_label(self, username: str, label: str) -> int:
        """Revoke the account's bearer tokens with this label; how many there were."""
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(account_tokens).where(
                    account_tokens.c.username == username,
                    account_tokens.c.kind == TokenKind.BEARER.value,
                    account_tokens.c.label == label,
                )
            )
        return int(gone.rowcount)

    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(account_tokens).where(account_tokens.c.expires_at <= format_time(_now()))
            )
        return int(gone.rowcount)
