"""Signing in to the county (issue 14): Argon2id-checked passwords, a session cookie the page's
scripts cannot read and other sites cannot send, CSRF on changes, a limit on guessing, and
accounts that end at once when disabled or given a new password."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from services.county.accounts.roles import Role
from services.county.accounts.store import Accounts, TokenKind
from services.county.accounts.tables import account_tokens, accounts
from services.county.api.app import create_app
from services.county.api.auth import CSRF_HEADER, SESSION_COOKIE
from services.county.api.sign_in import MAX_FAILURES
from services.county.cli import app as county_cli
from services.county.db.engine import make_engine
from shared.credentials import token_digest

PASSWORD = "correct horse battery"
BASE = "http://county.test"


@pytest.fixture
def engine(county_engine: Engine) -> Engine:
    Accounts(county_engine).add("li", Role.ANALYST, PASSWORD)
    Accounts(county_engine).add("wang", Role.TOWNSHIP_OFFICER, PASSWORD, township="t1")
    return county_engine


def sign_in(client: TestClient, username: str = "li", password: str = PASSWORD, **headers: str) -> int:
    answer = client.post(
        "/api/v1/session", json={"username": username, "password": password}, headers=headers
    )
    return answer.status_code


def test_a_session_is_an_httponly_strict_cookie_and_changes_need_its_csrf_value(engine: Engine) -> None:
    client = TestClient(create_app(engine), base_url=BASE)
    assert client.get("/api/v1/roster").status_code == 401
    answer = client.post("/api/v1/session", json={"username": "li", "password": PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["username"], body["role"], body["role_name"]) == ("li", "analyst", "分析员")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = client.cookies[SESSION_COOKIE]
    with engine.connect() as conn:  # only digests are stored
        stored = set(conn.execute(select(account_tokens.c.digest, account_tokens.c.csrf_digest)).one())
        hashed = conn.execute(select(accounts.c.password_hash).where(accounts.c.username == "li")).scalar()
    assert stored == {token_digest(token), token_digest(body["csrf"])} and token not in str(stored)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert client.get("/api/v1/roster").status_code == 200
    assert client.get("/api/v1/audit/verify").status_code == 403  # an analyst is no auditor
    assert client.delete("/api/v1/session").status_code == 403  # no CSRF value
    assert client.delete("/api/v1/session", headers={CSRF_HEADER: "guess"}).status_code == 403
    assert client.delete("/api/v1/session", headers={CSRF_HEADER: body["csrf"]}).status_code == 204
    client.cookies.set(SESSION_COOKIE, token)  # the old cookie, replayed
    assert client.get("/api/v1/roster").status_code == 401


def test_wrong_passwords_unknown_names_and_other_sites_are_refused(engine: Engine) -> None:
    client = TestClient(create_app(engine), base_url=BASE)
    assert sign_in(client, password="wrong password") == 401
    assert sign_in(client, username="nobody") == 401
    assert sign_in(client, origin="https://evil.example") == 403
    assert sign_in(client, **{"sec-fetch-site": "cross-site"}) == 403
    assert sign_in(client, origin=BASE) == 200
    too_long = client.post("/api/v1/session", json={"username": "li", "password": "x" * 5000})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["field"] == "password"


def test_guessing_is_limited_per_username_and_per_address(engine: Engine) -> None:
    app = create_app(engine)
    guesser = TestClient(app, base_url=BASE, client=("10.9.0.1", 1000))
    for _ in range(MAX_FAILURES):
        assert sign_in(guesser, username="wang", password="not it at all") == 401
    limited = guesser.post("/api/v1/session", json={"username": "wang", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    elsewhere = TestClient(app, base_url=BASE, client=("10.9.0.2", 1000))
    assert sign_in(elsewhere, username="wang") == 429  # the username is held, from any address
    assert sign_in(guesser, username="li") == 429  # and the address, for any username
    assert sign_in(elsewhere, username="li") == 200


def test_disabling_or_a_new_password_ends_every_session_and_token(engine: Engine) -> None:
    app, store = create_app(engine), Accounts(engine)
    client = TestClient(app, base_url=BASE)
    assert sign_in(client) == 200
    token = store.issue("li", TokenKind.BEARER, "nightly").token
    script = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert script.get("/api/v1/roster").status_code == 200
    store.set_password("li", "another horse battery")
    assert client.get("/api/v1/roster").status_code == 401
    assert script.get("/api/v1/roster").status_code == 401
    assert sign_in(client) == 401 and sign_in(client, password="another horse battery") == 200
    store.set_disabled("li", True)
    assert client.get("/api/v1/roster").status_code == 401
    assert sign_in(client, password="another horse battery") == 401


def test_the_user_commands(county_db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(county_cli, ["user", *args, "--db", county_db_url])
        return result.exit_code, result.output

    assert run("add", "zhao", "--role", "auditor", "--password-file", str(secret))[0] == 0
    code, out = run("add", "qian", "--role", "township_officer", "--password-file", str(secret))
    assert code == 2 and "township" in out
    code, out = run("add", "zhao", "--role", "auditor", "--password-file", str(secret))
    assert code == 2 and "exists" in out
    secret.write_text("short\n")
    code, out = run("add", "sun", "--role", "analyst", "--password-file", str(secret))
    assert code == 2 and "at least" in out
    code, out = run("token", "zhao", "--label", "nightly")
    assert code == 0
    token = out.strip().splitlines()[-1]
    engine_app = create_app(make_engine(county_db_url))
    headers = {"Authorization": f"Bearer {token}"}
    assert TestClient(engine_app, headers=headers).get("/api/v1/audit/digest").status_code == 200
    code, out = run("list")
    assert code == 0 and "zhao" in out and "auditor" in out
    assert run("revoke-token", "zhao", "--label", "nightly")[0] == 0
    assert TestClient(engine_app, headers=headers).get("/api/v1/audit/digest").status_code == 401
    assert run("disable", "zhao")[0] == 0 and run("enable", "zhao")[0] == 0
    assert run("disable", "nobody")[0] == 2
