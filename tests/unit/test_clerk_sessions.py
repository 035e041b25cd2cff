"""The parts of the node's sign-in on their own: the guard's Host and Origin rules, sessions' idle
expiry and epochs, the limit on failed sign-ins (with a clock the test moves), clerk.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.branch_node.clerk import Clerk
from services.branch_node.web.guard import Guard, host_name, same_origin
from services.branch_node.web.sessions import (
    FAILURE_WINDOW,
    IDLE_SECONDS,
    MAX_FAILURES,
    MAX_SESSIONS,
    Sessions,
    Throttle,
)
from shared.credentials import WeakPasswordError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("127.0.0.1:8710", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("[::1]:8710", "[::1]"),
        ("[::1]", "[::1]"),
        ("::1", "[::1]"),
        ("evil.example:80", "evil.example"),
        ("", ""),
    ],
)
def test_host_names(host: str, name: str) -> None:
    assert host_name(host) == name


def test_the_bind_all_address_is_no_allowed_name() -> None:
    guard = Guard(lambda *a: None, allowed_hosts=("0.0.0.0", "::", "node.lan"))  # type: ignore[arg-type,return-value]
    assert guard.allowed == {"127.0.0.1", "localhost", "[::1]", "node.lan"}


@pytest.mark.parametrize(
    ("origin", "scheme", "host", "same"),
    [
        ("http://127.0.0.1:8710", "http", "127.0.0.1:8710", True),
        ("http://localhost", "http", "localhost:80", True),
        ("https://node.lan", "https", "node.lan:443", True),
        ("http://[::1]:8710", "http", "[::1]:8710", True),
        ("http://127.0.0.1:8711", "http", "127.0.0.1:8710", False),
        ("https://127.0.0.1:8710", "http", "127.0.0.1:8710", False),
        ("http://localhost:8710", "http", "127.0.0.1:8710", False),
        ("http://127.0.0.1:8710/x", "http", "127.0.0.1:8710", False),
        ("null", "http", "127.0.0.1:8710", False),
        ("file://", "http", "127.0.0.1:8710", False),
    ],
)
def test_same_origin(origin: str, scheme: str, host: str, same: bool) -> None:
    assert same_origin(origin, scheme, host) is same


def test_a_session_ends_after_8_hours_idle_and_with_a_new_epoch() -> None:
    clock = Clock()
    sessions = Sessions(clock)
    token = sessions.begin(epoch=1)
    clock.now += IDLE_SECONDS - 1
    assert sessions.find(token, 1) is not None  # used: its idle time starts again
    clock.now += IDLE_SECONDS - 1
    assert sessions.find(token, 1) is not None
    clock.now += IDLE_SECONDS + 1
    assert sessions.find(token, 1) is None
    other = sessions.begin(epoch=1)
    assert sessions.find(other, 2) is None  # the password was set since
    assert sessions.find(other, 1) is None  # and it stays ended
    assert sessions.find("never-issued", 1) is None


def test_the_csrf_token_is_the_sessions_own_and_sessions_are_bounded() -> None:
    sessions = Sessions(Clock())
    a, b = sessions.begin(epoch=0), sessions.begin(epoch=0)
    assert sessions.csrf(a) != sessions.csrf(b) and sessions.csrf(a) == sessions.csrf(a)
    assert Sessions(Clock()).csrf(a) != sessions.csrf(a)  # another process, another key
    for _ in range(MAX_SESSIONS):
        sessions.begin(epoch=0)
    assert sessions.find(a, 0) is None  # the least recently used went first


def test_failures_are_limited_per_window() -> None:
    clock = Clock()
    throttle = Throttle(clock)
    for _ in range(MAX_FAILURES):
        assert throttle.retry_after() is None
        throttle.failed()
        clock.now += 1
    assert throttle.retry_after() == FAILURE_WINDOW - MAX_FAILURES
    clock.now += FAILURE_WINDOW - MAX_FAILURES
    assert throttle.retry_after() is None  # the first failure left the window


def test_clerk_json_round_trip(tmp_path: Path) -> None:
    clerk = Clerk(tmp_path)
    assert clerk.state().password is None and not clerk.check_password("anything at all")
    with pytest.raises(WeakPasswordError):
        clerk.set_password("short")
    signin = clerk.new_signin_token()
    clerk.set_password("a long enough password")
    assert clerk.state().epoch == 1 and clerk.state().signin_token is None  # the password replaced it
    assert not clerk.use_signin_token(signin)
    assert clerk.check_password("a long enough password")
    token = clerk.add_token("prometheus")
    with pytest.raises(ValueError, match="exists"):
        clerk.add_token("prometheus")
    with pytest.raises(ValueError, match="token name"):
        clerk.add_token("Not A Slug")
    assert Clerk(tmp_path).bearer(token) == "prometheus"  # another reader sees it
    assert clerk.bearer(token + "x") is None
    assert Clerk(tmp_path).revoke_token("prometheus") and clerk.bearer(token) is None
    assert not clerk.revoke_token("prometheus")
    fresh = clerk.new_signin_token()
    assert clerk.use_signin_token(fresh) and not clerk.use_signin_token(fresh)


def test_the_pages_background_poll_keeps_no_session_alive() -> None:
    clock = Clock()
    sessions = Sessions(clock)
    token = sessions.begin(epoch=0)
    for _ in range(10):  # an open page left alone: its status poll runs on
        clock.now += IDLE_SECONDS / 9
        found = sessions.find(token, 0, touch=False)
    assert found is None
