"""The node's front door (`web/guard.py`) on a real node: what the attacker tried is refused before it
reaches a route — a foreign Host (DNS rebinding), a write from another origin or site, a `text/plain`
write, a cross-site upload, a body too large (refused while it is read, over a raw socket to a real
`node serve`), a batch too long — nothing is appended, and every answer carries the security headers."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.limits import MAX_BATCH, MAX_IMPORT_BODY, MAX_JSON_BODY
from services.branch_node.service import NodeService
from services.branch_node.web.guard import CSP
from tests.clerk import BASE_URL, bearer, clerk_client
from tests.conftest import make_node_dir
from tests.e2e.test_node_serve import serving
from tests.samples import fund, registration


@pytest.fixture
def client(node: NodeService) -> TestClient:
    """Signed in as the clerk: every refusal below is the guard's, not a missing sign-in."""
    return clerk_client(node)


def refused(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert [d["field"] for d in r.json()["detail"]] == [field]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8710", "127.0.0.1.nip.io:8710", ""])
def test_a_foreign_host_reads_nothing(client: TestClient, node: NodeService, host: str) -> None:
    client.post("/api/v1/events", json=registration(1))
    r = client.get("/api/v1/events", params={"after": 0}, headers={"host": host})
    refused(r, 400, "host")
    assert "events" not in r.text and "personal" not in r.text
    assert client.get("/api/v1/events", params={"after": 0}).json()["events"]  # its own Host reads


def test_the_names_the_node_answers_to(node: NodeService) -> None:
    auth = bearer(node)
    app = create_app(node, allowed_hosts=("node.lan", "::1"))
    for host in ("127.0.0.1:8710", "localhost", "LOCALHOST:1", "[::1]:8710", "node.lan", "node.lan:8710"):
        r = TestClient(app, base_url=BASE_URL).get("/api/v1/status", headers={"host": host, **auth})
        assert r.status_code == 200, (host, r.text)
    other = TestClient(create_app(node), base_url=BASE_URL)
    refused(other.get("/api/v1/status", headers={"host": "node.lan", **auth}), 400, "host")


@pytest.mark.parametrize(
    ("headers", "status", "field"),
    [
        ({"origin": "http://evil.example"}, 403, "origin"),
        ({"origin": "http://127.0.0.1:9999"}, 403, "origin"),  # another port is another origin
        ({"origin": "https://127.0.0.1:8710"}, 403, "origin"),
        ({"origin": "null"}, 403, "origin"),
        ({"sec-fetch-site": "cross-site"}, 403, "origin"),
        ({"content-type": "text/plain"}, 415, "content-type"),
        ({"content-type": "application/x-www-form-urlencoded"}, 415, "content-type"),
        ({"content-type": "multipart/form-data; boundary=x"}, 415, "content-type"),
    ],
)
def test_a_write_from_another_page_appends_nothing(
    client: TestClient, node: NodeService, headers: dict[str, str], status: int, field: str
) -> None:
    assert client.post("/api/v1/events", json=fund(0)).status_code == 201
    body = json.dumps(fund(1)).encode()
    sent = {"content-type": "application/json", **headers}
    for path in ("/api/v1/events", "/api/v1/events/check"):
        refused(client.post(path, content=body, headers=sent), status, field)
    batch = json.dumps({"events": [fund(2)]}).encode()
    refused(client.post("/api/v1/events/batch", content=batch, headers=sent), status, field)
    assert node.log.last_seq() == 1


def test_a_write_from_the_page_itself_passes(client: TestClient, node: NodeService) -> None:
    for origin in ("http://127.0.0.1:8710", "HTTP://127.0.0.1:8710"):
        headers = {"origin": origin, "sec-fetch-site": "same-origin"}
        r = client.post("/api/v1/events", json=fund(0), headers=headers)
        assert r.status_code == 201, r.text
    assert node.log.last_seq() == 2


@pytest.mark.parametrize(
    "headers", [{"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"}, {"origin": "null"}]
)
def test_a_cross_site_upload_is_refused(
    client: TestClient, node: NodeService, headers: dict[str, str]
) -> None:
    data = b"".join(json.dumps(fund(i)).encode() + b"\n" for i in range(2))
    for path in ("/api/v1/import", "/api/v1/import/preview"):
        r = client.post(path, files={"file": ("events.jsonl", data)}, headers=headers)
        refused(r, 403, "origin")
    plain = client.post("/api/v1/import", content=data, headers={"content-type": "text/plain"})
    refused(plain, 415, "content-type")
    assert node.log.last_seq() == 0


def test_a_body_over_its_limit_is_refused_by_its_length(client: TestClient, node: NodeService) -> None:
    big = b" " * (MAX_JSON_BODY + 1)
    r = client.post("/api/v1/events", content=big, headers={"content-type": "application/json"})
    refused(r, 413, "body")
    assert r.headers["connection"] == "close"
    upload = client.post("/api/v1/import", files={"file": ("roster.csv", b"a" * MAX_IMPORT_BODY)})
    refused(upload, 413, "body")
    assert node.log.last_seq() == 0


def test_a_batch_over_the_cap_is_refused_and_one_at_it_is_recorded(
    client: TestClient, node: NodeService
) -> None:
    r = client.post("/api/v1/events/batch", json={"events": [fund(i) for i in range(MAX_BATCH + 1)]})
    refused(r, 422, "events")
    assert node.log.last_seq() == 0
    r = client.post("/api/v1/events/batch", json={"events": [fund(i) for i in range(MAX_BATCH)]})
    assert r.status_code == 201 and len(r.json()["seqs"]) == MAX_BATCH


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    outside = TestClient(client.app, base_url=BASE_URL)
    answers = {
        "page": client.get("/"),
        "script": client.get("/static/outstation.js"),
        "docs": client.get("/docs"),
        "api": client.get("/api/v1/status"),
        "refused": outside.get("/api/v1/status"),
        "host": client.get("/api/v1/status", headers={"host": "evil.example"}),
        "health": client.get("/health"),
        "ready": client.get("/ready"),
    }
    for name, r in answers.items():
        assert r.headers["content-security-policy"] == CSP, name
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "no-referrer", name
        assert r.headers["x-frame-options"] == "DENY", name
    for name in ("api", "refused", "host"):
        assert answers[name].headers["cache-control"] == "no-store", name
    assert "access-control-allow-origin" not in answers["api"].headers


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def _push(port: int, authorization: str, total: int, chunked: bool) -> tuple[int, bytes]:
    """POST a `total`-byte JSON body to `port` as fast as the node takes it; (bytes it took, the
    start of its answer)."""
    head = (
        f"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: {authorization}\r\n"
        + ("Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n")
    ).encode()
    piece = b" " * 65536
    frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        while sent < total:
            if select.select([sock], [], [], 0)[0]:  # the node answered: it reads no further
                break
            try:
                sock.sendall(frame)
            except OSError:  # it closed the connection
                break
            sent += len(piece)
        try:
            answer = sock.recv(200)
        except OSError:
            answer = b"(reset)"
    return sent, answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_body_to_node_serve_is_refused_before_it_is_read(tmp_path: Path, chunked: bool) -> None:
    data = make_node_dir(tmp_path / "node")
    with serving(data, "nats://127.0.0.1:1") as (proc, port, auth):
        before = _rss_mib(proc.pid)
        started = time.monotonic()
        sent, answer = _push(port, auth["Authorization"], 200 << 20, chunked)
        took = time.monotonic() - started
        peak = _rss_mib(proc.pid, "VmHWM")
    assert answer.startswith(b"HTTP/1.1 413"), answer
    # told by its length: refused at once (only the sockets' buffers filled); sent without one:
    # refused once 8 MiB are read (plus what the buffers hold)
    assert sent < (4 << 20 if not chunked else MAX_JSON_BODY + (16 << 20)), sent
    assert peak - before < 48, f"RSS {before:.0f} MiB before, peak {peak:.0f} MiB after"
    assert took < 20
    node = NodeService(data)
    try:
        assert node.log.last_seq() == 0
    finally:
        node.close()
