"""`tongxin node serve` as a process: kill -9 mid-forwarding, clean stop, HTTP while NATS is down."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.branch_node.config import NodeDir
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from tests.clerk import process_token
from tests.e2e.conftest import TONGXIN
from tests.samples import fund, mixed
from tests.streams import assert_exactly_once, ensure_stream_sync, read_stream, stream_count
from tongxin.natsd import EmbeddedNats, free_port


def get(port: int, path: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    with urllib.request.urlopen(request, timeout=2) as r:
        return json.loads(r.read())


@contextmanager
def serving(data: Path, nats_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int, dict[str, str]]]:
    """`node serve` on a free port; yields the process, the port and a bearer token's header."""
    headers = {"Authorization": f"Bearer {process_token(data)}"}
    port = free_port()
    proc = subprocess.Popen(
        [TONGXIN, "node", "serve", "-d", str(data), "--port", str(port), "--nats", nats_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(port, "/health")
                break
            except OSError:
                assert proc.poll() is None, "node serve exited early"
                assert time.monotonic() < deadline, "node serve did not come up"
                time.sleep(0.05)
        yield proc, port, headers
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def wait_status(port: int, headers: dict[str, str], predicate: Any, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get(port, "/api/v1/status", headers)
        if predicate(status):
            return status  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError(f"status never satisfied the condition: {status}")


def fill(data: Path, n: int) -> bytes:
    node = NodeService(data)
    try:
        items = [parse_item(i, node.keys) for i in mixed(n)]
        for k in range(0, n, 5_000):
            node.record(items[k : k + 5_000])
        return node.first_key.public_key
    finally:
        node.close()


def test_kill_9_while_forwarding_then_restart_loses_and_doubles_nothing(
    nats_server: EmbeddedNats, cli_node: Path
) -> None:
    total = 60_000
    public_key = fill(cli_node, total)
    with serving(cli_node, nats_server.url) as (proc, port, auth):
        status = wait_status(port, auth, lambda s: s["forwarded_seq"] >= 4_000)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    node = NodeService(cli_node)
    cursor = node.status().forwarded_seq
    node.close()
    in_stream = stream_count(nats_server.url)
    assert status["forwarded_seq"] <= cursor < total, "killed in the middle of the backlog"
    assert in_stream >= cursor, "the cursor never runs ahead of what JetStream acknowledged"
    with serving(cli_node, nats_server.url) as (proc, port, auth):
        wait_status(port, auth, lambda s: s["waiting"] == 0)
    assert_exactly_once(read_stream(nats_server.url), "dongguan", total, public_key)


def test_serve_records_while_nats_is_down_and_stops_cleanly_on_sigterm(
    tmp_path: Path, cli_node: Path
) -> None:
    server = EmbeddedNats(tmp_path / "nats")  # with users, as `tongxin nats` runs it
    try:
        with serving(cli_node, server.url) as (proc, port, auth):
            for i in range(20):
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/events",
                    data=json.dumps(fund(i)).encode(),
                    headers={"content-type": "application/json", **auth},
                )
                with urllib.request.urlopen(req, timeout=5) as r:
                    assert r.status == 201
            status = get(port, "/api/v1/status", auth)
            assert status["backlog"] == 20 and status["nats_connected"] is False
            assert status["county_keys"] == [], "made without --county-public-key: receipts unchecked"
            server.start()
            assert server.access is not None
            server.allow_node("jx", "dongguan", NodeDir(cli_node).ensure_nats_key())
            ensure_stream_sync(server.url, server.identity("operator"))
            wait_status(port, auth, lambda s: s["waiting"] == 0 and s["nats_connected"])
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
            assert proc.stderr is not None
            logs = [
                json.loads(line) for line in proc.stderr.read().decode().splitlines() if line.startswith("{")
            ]
            assert logs[-1]["msg"] == "stopped"
            assert any(entry["msg"].startswith("forwarding interrupted (") for entry in logs)
            unchecked = [e for e in logs if e["msg"].startswith("no county key")]
            assert [e["level"] for e in unchecked] == ["warning"], "said once, at the start"
        assert stream_count(server.url, server.identity("operator")) == 20
    finally:
        server.stop()
