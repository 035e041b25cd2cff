"""Heavy jobs (services/county/api/expensive.py): one at a time per caller, at most two in all,
429 with `Retry-After` past that; a past `known_at` is a heavy job, a live query is not; /health
answers while slow requests fill the default threadpool. The county is a real SQLite one. A job
is made slow by replacing the function its route calls with one that waits to be released."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.county.accounts.roles import Role
from services.county.api import deps
from services.county.api.app import create_app
from services.county.api.expensive import MAX_HEAVY, RETRY_AFTER, Gate
from services.county.api.routes import audit_integrity
from services.county.ingest.processor import Ingestor
from services.county.queries import roster
from shared.signing import Signer
from tests.accounts import CountyClient, account_name, bearer
from tests.browser.dashboard_server import serve
from tests.county.helpers import enrol_nodes, feed, open_node, record
from tests.county.test_openapi import problems
from tests.samples import mixed

pytestmark = pytest.mark.parametrize("county_db_url", ["sqlite"], indirect=True)

WAIT = 30.0
"""Longest a stand-in waits to be released, or a test for a request to arrive (not reached)."""
PAST, FUTURE = "2020-01-01", "2199-01-01"
VERIFY, FUNDS_CSV = "/api/v1/audit/verify", "/api/v1/export/figures.csv"
COUNTY = Signer.from_seed_hex("c1" * 32)


class Held:
    """Stands in for `real`: each call waits for `release`, then calls it."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.release = threading.Event()
        self.entered = 0
        self._entering = threading.Condition()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._entering:
            self.entered += 1
            self._entering.notify_all()
        if not self.release.wait(WAIT):
            raise TimeoutError("never released")
        return self.real(*args, **kwargs)

    def wait_entered(self, count: int) -> None:
        with self._entering:
            assert self._entering.wait_for(lambda: self.entered >= count, WAIT), self.entered


@dataclass
class County:
    app: FastAPI
    pool: ThreadPoolExecutor

    @property
    def gate(self) -> Gate:
        gate: Gate = self.app.state.heavy_jobs
        return gate

    def client(self, user: str = "alice", host: str = "10.0.0.1") -> TestClient:
        """A client signed in as `user` (with the role each path is for), from `host`."""
        return CountyClient(self.app, user=user, client=(host, 123))

    def start(self, user: str, path: str, **params: str) -> Future[Any]:
        """A request of `user`, in a thread of its own."""
        return self.pool.submit(self.client(user).get, path, params=params)


def busy(path: str, *users: str) -> frozenset[str]:
    """The gate's keys of `users` running `path`'s kind of job."""
    return frozenset(f"user:{account_name(CountyClient.role_for(path), user=u)}" for u in users)


@pytest.fixture
def county(county_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[County]:
    """A county with one node's archive, a county key to sign exports; released threads joined."""
    node = open_node(tmp_path, "dongguan")
    try:
        datas = record(node, mixed(6))
        enrol_nodes(county_engine, node)
    finally:
        node.close()
    assert set(feed(Ingestor(county_engine, "jx", COUNTY), datas)) == {"archived"}
    COUNTY.save(tmp_path / "county.key")
    monkeypatch.setenv("TONGXIN_COUNTY_KEY", str(tmp_path / "county.key"))
    monkeypatch.setenv("TONGXIN_COUNTY_ID", "jx")
    pool = ThreadPoolExecutor(max_workers=50)
    try:
        yield County(create_app(county_engine), pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def held_verify(monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    held = Held(audit_integrity.verify_archive)
    monkeypatch.setattr(audit_integrity, "verify_archive", held)
    try:
        yield held
    finally:
        held.release.set()


def refused(response: Any, field: str) -> bool:
    """A 429 as declared: `Retry-After`, one refusal naming `field`."""
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    (item,) = response.json()["detail"]
    assert item["field"] == field and item["message"], item
    return True


def test_a_caller_runs_one_heavy_job_at_a_time(county: County, held_verify: Held) -> None:
    running = county.start("alice", VERIFY)
    held_verify.wait_entered(1)
    client = county.client("alice")
    assert county.gate.busy == busy(VERIFY, "alice")
    assert refused(client.get(VERIFY), "")
    assert refused(county.client("alice", host="10.0.0.7").get(VERIFY), "")  # one user, any address
    assert refused(client.get("/api/v1/audit/export"), "")
    assert refused(client.get("/api/v1/audit/replay"), "")
    assert refused(client.get("/api/v1/audit/replay", params={"known_at": PAST}), "")
    assert client.get("/api/v1/audit/digest").status_code == 200  # a live query is no heavy job
    assert county.gate.busy == busy(VERIFY, "alice")  # the refusals released nothing
    held_verify.release.set()
    assert running.result(WAIT).status_code == 200
    assert county.gate.busy == frozenset()
    assert client.get(VERIFY).json()["ok"] is True
    assert client.get(FUNDS_CSV, params={"figure": "funds"}).status_code == 200
    assert client.get("/api/v1/audit/export").headers["content-type"] == "application/zip"
    assert county.gate.busy == frozenset()


def test_callers_do_not_wait_for_each_other_but_share_the_cap(county: County, held_verify: Held) -> None:
    assert MAX_HEAVY == 2
    first = county.start("alice", VERIFY)
    held_verify.wait_entered(1)
    other = county.client("bob")
    assert other.get(FUNDS_CSV, params={"figure": "funds"}).status_code == 200
    second = county.start("bob", VERIFY)
    held_verify.wait_entered(2)
    assert county.gate.busy == busy(VERIFY, "alice", "bob")
    third = county.client("carol")
    assert refused(third.get(VERIFY), "")
    assert refused(third.get("/api/v1/figures/funds", params={"known_at": PAST}), "known_at")
    held_verify.release.set()
    assert [first.result(WAIT).status_code, second.result(WAIT).status_code] == [200, 200]
    assert third.get(VERIFY).status_code == 200


def test_a_past_known_at_holds_the_job_a_live_query_does_not(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = county.client("alice")
    for known_at, holds in ((PAST, True), (None, False), (FUTURE, False)):
        held = Held(roster.roster_summary)
        monkeypatch.setattr(roster, "roster_summary", held)
        try:
            params = {} if known_at is None else {"known_at": known_at}
            running = county.start("alice", "/api/v1/roster", **params)
            held.wait_entered(1)
            assert county.gate.busy == (busy("/api/v1/roster", "alice") if holds else frozenset()), known_at
            if holds:
                assert refused(client.get(FUNDS_CSV, params={"figure": "funds"}), "")
                assert refused(client.get("/api/v1/alerts", params={"known_at": PAST}), "known_at")
            else:
                assert client.get(FUNDS_CSV, params={"figure": "funds"}).status_code == 200
                assert client.get("/api/v1/alerts", params={"known_at": PAST}).status_code == 200
        finally:
            held.release.set()
        assert running.result(WAIT).status_code == 200, known_at
        assert county.gate.busy == frozenset()


def test_a_job_that_fails_releases_its_hold(county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the verify broke")

    monkeypatch.setattr(audit_integrity, "verify_archive", broken)
    client = CountyClient(county.app, user="alice", raise_server_exceptions=False)
    assert client.get(VERIFY).status_code == 500
    assert county.gate.busy == frozenset()
    assert client.get(VERIFY, params={"node": "nowhere"}).status_code == 404
    assert county.gate.busy == frozenset()


def test_health_answers_while_the_default_threadpool_is_full(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    """45 sync requests block in a dependency (known_at's parsing, before any connection): 40 hold
    every thread of the default pool, 5 wait for one; /health still answers, from its own threads."""
    held = Held(deps.parse_point)
    monkeypatch.setattr(deps, "parse_point", held)
    with CountyClient(county.app, user="dave") as client:  # one event loop for all
        assert client.portal is not None
        try:
            params = {"known_at": FUTURE}
            blocked = [county.pool.submit(client.get, "/api/v1/roster", params=params) for _ in range(45)]
            held.wait_entered(40)
            limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
            assert (limiter.borrowed_tokens, limiter.total_tokens, held.entered) == (40, 40, 40)
            health = county.pool.submit(client.get, "/health")
            answer = health.result(timeout=5)  # a liveness check, generous
            assert (answer.status_code, answer.json()) == (200, {"status": "ok", "database": "ok"})
            assert held.entered == 40  # the pool was still full
        finally:
            held.release.set()
        assert {f.result(WAIT).status_code for f in blocked} == {200}


def test_every_route_that_can_refuse_declares_the_429(county: County, held_verify: Held) -> None:
    spec = county.app.openapi()
    declaring, heavy = set(), {VERIFY, "/api/v1/audit/export", "/api/v1/audit/replay"}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if path == "/api/v1/session":  # sign-in's own limit on failures (test_roles.py)
                continue
            names = {p["name"] for p in operation.get("parameters", [])}
            if "429" in operation["responses"]:
                declaring.add(path)
                busy = operation["responses"]["429"]
                assert busy["headers"]["Retry-After"]["schema"] == {"type": "integer"}, path
            assert ("429" in operation["responses"]) == ("known_at" in names or path in heavy), path
    assert (
        len(declaring) == 18
        and {"/api/v1/export/roster.xlsx", "/api/v1/export/alerts.xlsx", FUNDS_CSV} <= declaring
    )
    running = county.start("alice", VERIFY)
    held_verify.wait_entered(1)
    answer = county.client("alice").get(VERIFY)
    schema = spec["paths"][VERIFY]["get"]["responses"]["429"]["content"]["application/json"]["schema"]
    assert refused(answer, "") and problems(spec, answer.json(), schema) == []
    held_verify.release.set()
    assert running.result(WAIT).status_code == 200


def test_one_request_after_another_is_never_refused_over_a_real_server(county: County) -> None:
    """The job ends when the route returns, not after the answer went out: over uvicorn, a client
    asking again the moment it has its answer finds its previous job released."""
    engine = county.app.state.engine
    headers = bearer(engine, Role.AUDITOR, user="erin")
    with serve(engine) as base:
        for i in range(20):
            params = urllib.parse.urlencode({"known_at": PAST})
            request = urllib.request.Request(f"{base}/api/v1/audit/replay?{params}", headers=headers)
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 200, i
            request = urllib.request.Request(f"{base}{VERIFY}", headers=headers)
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 200, i
