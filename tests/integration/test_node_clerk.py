"""The clerk's sign-in on a real node and the real CLI: nothing of members or events without a session
or a bearer token; a wrong password, the limit on failures, the cookie's flags, the CSRF token on
writes, bearer tokens and their revocation, the one-time token of `node init`, signing out."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.clerk import CLERK_FILE
from services.branch_node.service import NodeService
from tests.clerk import BASE_URL, PASSWORD, with_password
from tests.e2e.conftest import tongxin
from tests.samples import fund, registration

READS = ["/api/v1/events?after=0", "/api/v1/members", "/api/v1/records", "/api/v1/status", "/metrics"]


@pytest.fixture
def cli_dir(tmp_path: Path, county_secret: str) -> Path:
    """A node made by `tongxin node init`, as an installer makes one."""
    data = tmp_path / "node"
    r = tongxin("node", "init", "--node-id", "dongguan", "--county-id", "jx",
                "--county-secret", county_secret, "--data-dir", str(data))  # fmt: skip
    assert r.returncode == 0, r.stderr
    (data / "init.out").write_text(r.stdout)
    return data


@pytest.fixture
def served(cli_dir: Path) -> Iterator[tuple[TestClient, NodeService]]:
    node = NodeService(cli_dir)
    try:
        yield TestClient(create_app(node), base_url=BASE_URL), node
    finally:
        node.close()


def unauthorized(r: Any) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["detail"][0]["field"] == "authorization"


def sign_in(client: TestClient, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/session", json={"password": password})
    assert r.status_code == 201, r.text
    return str(r.json()["csrf_token"])


def test_without_a_session_nothing_is_read_or_written(served: tuple[TestClient, NodeService]) -> None:
    client, node = served
    for path in READS:
        unauthorized(client.get(path))
    unauthorized(client.post("/api/v1/events", json=fund(1)))
    unauthorized(client.post("/api/v1/events/batch", json={"events": [fund(1)]}))
    unauthorized(client.post("/api/v1/events/check", json=fund(1)))
    unauthorized(client.post("/api/v1/import", files={"file": ("a.jsonl", b"{}")}))
    unauthorized(client.get("/api/v1/status", headers={"authorization": "Bearer not-a-token"}))
    unauthorized(client.get("/api/v1/status", headers={"authorization": "Basic YTpi"}))
    client.cookies.set("tongxin_clerk", "forged")
    unauthorized(client.get("/api/v1/members"))
    assert node.log.last_seq() == 0
    assert client.get("/health").json() == {"status": "ok"}  # liveness stays open
    ready = client.get("/ready")  # so does readiness, with nothing of the log in it
    assert ready.status_code == 200 and set(ready.json()) == {"status", "log", "nats", "not_ready"}
    assert client.get("/api/v1/session").json()["signed_in"] is False


def test_a_wrong_password_then_the_limit_then_the_right_one(served: tuple[TestClient, NodeService]) -> None:
    client, node = served
    with_password(node.dir.path)
    for _ in range(5):
        r = client.post("/api/v1/session", json={"password": "not the password"})
        assert r.status_code == 401 and r.json()["detail"][0]["field"] == "password"
        assert "set-cookie" not in r.headers
    limited = client.post("/api/v1/session", json={"password": PASSWORD})  # even the right one, now
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    unauthorized(client.get("/api/v1/members"))


def test_signed_in_the_cookie_is_httponly_strict_and_writes_need_the_csrf_token(
    served: tuple[TestClient, NodeService],
) -> None:
    client, node = served
    with_password(node.dir.path)
    r = client.post("/api/v1/session", json={"password": PASSWORD})
    assert r.status_code == 201
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("tongxin_clerk=")
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags and "secure" not in flags
    csrf = r.json()["csrf_token"]
    assert client.get("/api/v1/members").status_code == 200  # a read needs the cookie only
    assert client.get("/api/v1/session").json()["csrf_token"] == csrf  # the page asks again on reload

    for sent in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": ""}):
        r = client.post("/api/v1/events", json=registration(1), headers=sent)
        assert r.status_code == 403 and r.json()["detail"][0]["field"] == "x-csrf-token"
    assert node.log.last_seq() == 0
    r = client.post("/api/v1/events", json=registration(1), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and node.log.last_seq() == 1

    assert client.delete("/api/v1/session").status_code == 403  # signing out asks for it too
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    unauthorized(client.get("/api/v1/members"))


def test_over_https_the_cookie_is_secure(served: tuple[TestClient, NodeService]) -> None:
    client, node = served
    with_password(node.dir.path)
    secure = TestClient(client.app, base_url="https://127.0.0.1:8710")
    r = secure.post("/api/v1/session", json={"password": PASSWORD})
    assert "secure" in {f.strip().lower() for f in r.headers["set-cookie"].split(";")}


def test_a_bearer_token_works_until_it_is_revoked(
    served: tuple[TestClient, NodeService], cli_dir: Path
) -> None:
    client, node = served
    made = tongxin("node", "token", "add", "prometheus", "--data-dir", str(cli_dir))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/metrics", headers=auth).status_code == 200
    assert client.post("/api/v1/events", json=fund(1), headers=auth).status_code == 201  # no CSRF needed
    listed = tongxin("node", "token", "list", "--data-dir", str(cli_dir))
    assert listed.stdout.split()[:2] == ["prometheus", "made"] and token not in listed.stdout

    revoked = tongxin("node", "token", "revoke", "prometheus", "--data-dir", str(cli_dir))
    assert revoked.returncode == 0, revoked.stderr
    unauthorized(client.get("/metrics", headers=auth))  # at once: no restart
    unauthorized(client.post("/api/v1/events", json=fund(2), headers=auth))
    assert node.log.last_seq() == 1
    assert tongxin("node", "token", "revoke", "prometheus", "--data-dir", str(cli_dir)).returncode == 1


def test_the_one_time_token_signs_in_once_and_asks_for_a_password(
    served: tuple[TestClient, NodeService], cli_dir: Path
) -> None:
    client, node = served
    said = (cli_dir / "init.out").read_text()
    printed = re.search(r"clerk sign-in token \(one-time, shown once\): (\S+)", said)
    assert printed is not None
    token = printed.group(1)
    assert client.get("/api/v1/session").json()["password_set"] is False

    r = client.post("/api/v1/session", json={"token": token})
    assert r.status_code == 201 and r.json()["setup"] is True
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    blocked = client.get("/api/v1/members")
    assert blocked.status_code == 403 and blocked.json()["detail"][0]["field"] == "password"
    assert client.post("/api/v1/events", json=fund(1), headers=csrf).status_code == 403
    short = client.put("/api/v1/session/password", json={"password": "short"}, headers=csrf)
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "password"
    set_ = client.put("/api/v1/session/password", json={"password": PASSWORD}, headers=csrf)
    assert set_.status_code == 204, set_.text
    assert client.get("/api/v1/members").status_code == 200  # this session goes on, in full
    assert client.post("/api/v1/events", json=fund(1), headers=csrf).status_code == 201

    again = TestClient(client.app, base_url=BASE_URL)
    r = again.post("/api/v1/session", json={"token": token})
    assert r.status_code == 401 and r.json()["detail"][0]["field"] == "token"  # used once
    assert again.post("/api/v1/session", json={"password": PASSWORD}).status_code == 201
    assert node.log.last_seq() == 1


def test_node_passwd_ends_the_sessions_signed_in_before(
    served: tuple[TestClient, NodeService], cli_dir: Path, tmp_path: Path
) -> None:
    client, node = served
    with_password(node.dir.path)
    sign_in(client)
    assert client.get("/api/v1/members").status_code == 200
    new = tmp_path / "new.pass"
    new.write_text("一个新的足够长的密码\n")
    r = tongxin("node", "passwd", "--password-file", str(new), "--data-dir", str(cli_dir))
    assert r.returncode == 0, r.stderr
    unauthorized(client.get("/api/v1/members"))
    assert client.post("/api/v1/session", json={"password": PASSWORD}).status_code == 401
    sign_in(client, "一个新的足够长的密码")
    weak = tmp_path / "weak.pass"
    weak.write_text("short\n")
    refused = tongxin("node", "passwd", "--password-file", str(weak), "--data-dir", str(cli_dir))
    assert refused.returncode == 2 and "at least 10" in refused.stderr


def test_clerk_json_is_private_and_holds_no_credential(
    served: tuple[TestClient, NodeService], cli_dir: Path
) -> None:
    _, node = served
    with_password(node.dir.path)
    token = tongxin("node", "token", "add", "ci", "--data-dir", str(cli_dir)).stdout.strip()
    path = cli_dir / CLERK_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text and token not in text
    assert '"password": "$argon2id$' in text


def test_node_init_with_a_password_file(tmp_path: Path, county_secret: str) -> None:
    secret = tmp_path / "clerk.pass"
    secret.write_text(PASSWORD + "\n")
    data = tmp_path / "node"
    r = tongxin("node", "init", "--node-id", "dongguan", "--county-id", "jx",
                "--county-secret", county_secret, "--data-dir", str(data),
                "--clerk-password-file", str(secret))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "one-time" not in r.stdout
    node = NodeService(data)
    try:
        client = TestClient(create_app(node), base_url=BASE_URL)
        sign_in(client)
        assert client.get("/api/v1/status").status_code == 200
    finally:
        node.close()
