"""Passwords are Argon2id hashes; tokens are stored as digests; both compare in constant time."""

from __future__ import annotations

import pytest

from shared.credentials import (
    MAX_PASSWORD,
    WeakPasswordError,
    hash_password,
    needs_rehash,
    new_token,
    same,
    token_digest,
    verify_password,
)


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_itself() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert hash_password("correct horse battery") != stored  # salted
    assert not needs_rehash(stored)


@pytest.mark.parametrize("password", ["short", "x" * (MAX_PASSWORD + 1)])
def test_weak_or_oversized_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPasswordError):
        hash_password(password)


def test_a_malformed_hash_or_oversized_attempt_never_verifies() -> None:
    assert not verify_password("not a hash", "correct horse battery")
    assert not verify_password(hash_password("correct horse battery"), "x" * (MAX_PASSWORD + 1))
    assert needs_rehash("not a hash")


def test_tokens_are_random_and_stored_only_as_digests() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 43
    assert token_digest(a) == token_digest(a) != token_digest(b)
    assert a not in token_digest(a)
    assert same(a, a) and not same(a, b)
