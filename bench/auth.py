"""What access control (issue 14) costs per request at the county's API, over HTTP.

    python -m bench.auth [--requests 300] [--sign-ins 5] [--members 600] [--json]

A county recorded at real branch nodes and ingested (`tests/browser/dashboard_county.py`) in a
fresh SQLite database, served by uvicorn in two child processes: the county's app as it is, and
the same app with its accounts stubbed out (the role check runs, no token is looked up). This
process is the client (http.client, one keep-alive connection per case, one request at a time,
the cases taking turns request by request so that the machine's drift falls on all alike). Per
GET (`/api/v1/nodes`, a township's roster, funds by month): (a) with an analyst's bearer token,
(b) with its session cookie (signed in with `POST /api/v1/session`), (c) at the stub (the token
lookup's cost is (a) − (c)), and the GET with no credentials (refused: 401); as the floor,
`/health` (public, no credentials). Then sign-in itself: the right password (Argon2id, RFC 9106
low-memory profile), and wrong ones — a wrong password and an unknown username in turns, 5 of
them: the county refuses that address for a minute after 5 failures, and the refusals (429) are
timed too. Measures and prints; never asserts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from rich.console import Console
from rich.table import Table

from bench.accounts import account
from bench.county_steps import PROJECT, pct
from bench.node import machine
from services.county.accounts.roles import Role
from services.county.accounts.store import Principal, TokenKind
from services.county.api.app import create_app
from services.county.api.auth import SESSION_COOKIE
from services.county.db.engine import make_engine
from tongxin.natsd import free_port

err = Console(stderr=True)
DB_ENV, STUB_ENV = "TONGXIN_BENCH_AUTH_DB", "TONGXIN_BENCH_AUTH_STUB"
GETS = ("/api/v1/nodes", "/api/v1/roster?township=t1", "/api/v1/figures/funds?group_by=month")


class _Fixed:
    """Accounts that know one analyst and look nothing up: whatever the token, it is theirs."""

    analyst = Principal("stub", Role.ANALYST, None, "", TokenKind.BEARER)

    def resolve(self, token: str, kind: TokenKind) -> Principal:
        return self.analyst


def app() -> FastAPI:
    """The served app (`uvicorn --factory bench.auth:app`): the county's, over the database in
    $TONGXIN_BENCH_AUTH_DB; with $TONGXIN_BENCH_AUTH_STUB, its accounts stubbed out (`_Fixed`):
    the role check still runs, the token is not looked up. (Not `dependency_overrides`: with any
    override set, FastAPI analyses every dependency again on every request, dearer than the check.)"""
    county = create_app(make_engine(os.environ[DB_ENV]))
    if os.environ.get(STUB_ENV):
        county.state.accounts = _Fixed()
    return county


class Client:
    """One keep-alive HTTP connection to `base`, sending `headers` on every request."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = headers or {}

    def request(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        data = None if body is None else json.dumps(body).encode()
        headers = self.headers | ({"Content-Type": "application/json"} if data is not None else {})
        self.conn.request(method, path, data, headers)
        response = self.conn.getresponse()
        return response.status, response.read(), response

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)[:2]

    def close(self) -> None:
        self.conn.close()


def once(base: str, method: str, path: str, body: Any = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    """A request over a connection of its own, as a browser's first visit."""
    client = Client(base)
    try:
        return client.request(method, path, body)
    finally:
        client.close()


@contextmanager
def served(db_url: str, log: Path, stub: bool = False) -> Iterator[str]:
    port = free_port()
    env = os.environ | {DB_ENV: db_url, "PYTHONPATH": str(PROJECT)} | ({STUB_ENV: "1"} if stub else {})
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench.auth:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the county app did not start: {log.read_text()[-1000:]}")
            try:
                if once(base, "GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


Case = tuple[str, Client, str, int]
"""A line of the table: its name, the client (credentials and server), the path, the status expected."""


def timed_turns(cases: list[Case], n: int, warm: int = 5) -> dict[str, list[float]]:
    """`n` requests of each case (after `warm` not counted), the cases taking turns: ms each."""
    out: dict[str, list[float]] = {name: [] for name, *_ in cases}
    for i in range(-warm, n):
        for name, client, path, status in cases:
            t0 = time.perf_counter()
            got, body = client.get(path)
            dt = (time.perf_counter() - t0) * 1000
            if got != status:
                raise RuntimeError(f"{name}: {path} answered {got}, not {status}: {body[:200]!r}")
            if i >= 0:
                out[name].append(dt)
    return out


def summary(name: str, ms: list[float], group: str, note: str = "") -> dict[str, Any]:
    median = statistics.median(ms)
    return {
        "group": group,
        "name": name,
        "n": len(ms),
        "median_ms": median,
        "p95_ms": pct(ms, 95),
        "per_s": 1000 / statistics.mean(ms),
        "note": note,
    }


def sign_ins(base: str, username: str, password: str, n: int) -> list[dict[str, Any]]:
    """`n` sign-ins with the right password, 5 failures (wrong password, unknown username in
    turns), then 3 refused by the limiter; each a new connection, as a browser's first visit."""

    def post(user: str, pw: str, status: int) -> float:
        t0 = time.perf_counter()
        got, body, _ = once(base, "POST", "/api/v1/session", {"username": user, "password": pw})
        dt = (time.perf_counter() - t0) * 1000
        if got != status:
            raise RuntimeError(f"sign-in as {user}: {got}, not {status}: {body[:200]!r}")
        return dt

    good = [post(username, password, 200) for _ in range(n)]
    bad = [post(*((username, "not-the-password") if i % 2 else ("nobody", password)), 401) for i in range(5)]
    refused = [post(username, "not-the-password", 429) for _ in range(3)]
    what = "POST /api/v1/session"
    return [
        summary(f"{what}, right password", good, "sign-in", "Argon2id verify, a session issued"),
        summary(f"{what}, wrong password or unknown user", bad, "sign-in", "Argon2id verify either way"),
        summary(f"{what} after 5 failures (429)", refused, "sign-in", "the limiter refuses, no hash"),
    ]


def measure(args: argparse.Namespace, root: Path) -> list[dict[str, Any]]:
    from tests.browser.dashboard_county import build_county

    engine = build_county(root, members=args.members, townships=4)
    analyst = account(engine)
    engine.dispose()
    db = f"sqlite:///{root / 'county.db'}"
    with ExitStack() as stack:
        base = stack.enter_context(served(db, root / "county.log"))
        bare = stack.enter_context(served(db, root / "county-stub.log", stub=True))

        def client(url: str, headers: dict[str, str] | None = None) -> Client:
            made = Client(url, headers)
            stack.callback(made.close)
            return made

        credentials = {"username": analyst.username, "password": analyst.password}
        status, body, response = once(base, "POST", "/api/v1/session", credentials)
        if status != 200:
            raise RuntimeError(f"sign-in: {status} {body[:200]!r}")
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]  # tongxin_session=…
        if not cookie.startswith(SESSION_COOKIE + "="):
            raise RuntimeError(f"sign-in set no session cookie: {cookie!r}")
        stubbed = client(bare, {"Authorization": "Bearer any"})
        bearer, nobody = client(base, analyst.bearer), client(base)
        session = client(base, {"Cookie": cookie})
        rows = []
        for path in GETS:
            cases: list[Case] = [
                ("(a) bearer token", bearer, path, 200),
                ("(b) session cookie", session, path, 200),
                ("(c) token not looked up (stub)", stubbed, path, 200),
                ("no credentials (401)", nobody, path, 401),
            ]
            err.print(f"GET {path}: {args.requests} requests of each, taking turns")
            times = timed_turns(cases, args.requests)
            rows += [summary(name, ms, f"GET {path}") for name, ms in times.items()]
        err.print(f"GET /health: {args.requests} requests, no credentials")
        health = timed_turns([("/health", nobody, "/health", 200)], args.requests)["/health"]
        rows.append(summary("floor: GET /health (public)", health, "floor", "the app, uvicorn, HTTP"))
        err.print(f"sign-in: {args.sign_ins} right, 5 wrong, 3 refused")
        rows += sign_ins(base, analyst.username, analyst.password, args.sign_ins)
    return rows


def cost(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per GET: the medians of (a) and (b) less (c): what looking the token up adds."""
    out = []
    for path in GETS:
        by = {r["name"][:3]: r["median_ms"] for r in rows if r["group"] == f"GET {path}"}
        out.append({"get": path, "bearer_ms": by["(a)"] - by["(c)"], "session_ms": by["(b)"] - by["(c)"]})
    return out


def show(rows: list[dict[str, Any]], costs: list[dict[str, Any]], info: dict[str, str], out: Console) -> None:
    caption = " · ".join(f"{k} {v}" for k, v in info.items())
    table = Table(title="Tongxin county: access control per request (HTTP, uvicorn)", caption=caption)
    for col in ("request", "case", "n", "median ms", "p95 ms", "requests/s", "note"):
        table.add_column(
            col, justify="right" if col in ("n", "median ms", "p95 ms", "requests/s") else "left"
        )
    for r in rows:
        cells = (f"{r['n']}", f"{r['median_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['per_s']:,.0f}")
        table.add_row(r["group"], r["name"], *cells, r["note"])
    for c in costs:
        added = f"bearer +{c['bearer_ms']:.2f} ms, session +{c['session_ms']:.2f} ms"
        table.add_row(f"GET {c['get']}", "token lookup: (a), (b) − (c)", "", "", "", "", added)
    out.width = max(out.width, 150)  # not squeezed into 80 columns when piped
    out.print(table)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=300, help="timed requests per case (300)")
    ap.add_argument("--sign-ins", type=int, default=5, help="sign-ins with the right password (5)")
    ap.add_argument("--members", type=int, default=600, help="members of the county (600)")
    ap.add_argument("--json", action="store_true", help="results as JSON on stdout (the table on stderr)")
    args = ap.parse_args(argv)
    info = machine()
    with tempfile.TemporaryDirectory(prefix="tongxin-bench-auth-") as tmp:
        rows = measure(args, Path(tmp))
    info["load at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    costs = cost(rows)
    show(rows, costs, info, err if args.json else Console())
    if args.json:
        params = {k: v for k, v in vars(args).items() if k != "json"}
        out = {"machine": info, "params": params, "results": rows, "check_cost": costs}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
