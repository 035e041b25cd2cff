"""The node's HTTP API on a real SQLite log: 4xx naming the field, nothing half-written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.service import NodeService
from shared import envelope
from tests.samples import fund, registration


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return TestClient(create_app(node))


def test_record_one_and_read_it_back_signed(client: TestClient, node: NodeService) -> None:
    r = client.post("/api/v1/events", json=registration(1))
    assert r.status_code == 201, r.text
    assert r.json()["seq"] == 1
    events = client.get("/api/v1/events", params={"after": 0}).json()["events"]
    assert len(events) == 1
    env = envelope.decode(json.dumps(events[0], ensure_ascii=False).encode())
    assert env.seq == 1 and env.type == "member.registered" and envelope.hash_matches(env)


def test_batch_is_all_or_nothing_and_names_item_and_field(client: TestClient, node: NodeService) -> None:
    bad = fund(2)
    bad["payload"]["amount_fen"] = -5
    r = client.post("/api/v1/events/batch", json={"events": [registration(1), fund(1), bad]})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"index": 2, "field": "payload.amount_fen", "message": "Expected `int` >= 1"}
    ]
    assert node.log.last_seq() == 0
    r = client.post("/api/v1/events/batch", json={"events": [registration(1), fund(1)]})
    assert r.status_code == 201 and r.json()["seqs"] == [1, 2]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (json.dumps({"type": "fund.received"}).encode(), 422, "payload"),
        (json.dumps({"type": "nope.nope", "payload": {}}).encode(), 422, "type"),
        (
            json.dumps({**fund(1), "payload": {**fund(1)["payload"], "source": "lottery"}}).encode(),
            422,
            "payload.source",
        ),
        (
            json.dumps({**fund(1), "occurred_at": "2099-01-01T00:00:00Z"}).encode(),
            422,
            "occurred_at",
        ),
        (json.dumps({**fund(1), "occurred_at": "yesterday"}).encode(), 422, "occurred_at"),
        (json.dumps({**fund(1), "extra": 1}).encode(), 422, "extra"),
        (
            json.dumps(
                {
                    **registration(1),
                    "payload": {
                        **registration(1)["payload"],
                        "personal": {"name": "x", "id_number": "431126196001010001"},
                    },
                },
                ensure_ascii=False,
            ).encode(),
            422,
            "payload.personal.id_number",
        ),
        (
            json.dumps({"type": "member.returned", "payload": {"member_id": "0" * 32}}).encode(),
            422,
            "payload.member_id",
        ),
    ],
)
def test_bad_requests_name_the_field_and_leave_the_log_unchanged(
    client: TestClient, node: NodeService, body: bytes, status: int, field: str
) -> None:
    client.post("/api/v1/events", json=fund(0))
    r = client.post("/api/v1/events", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["detail"][0]["field"] == field
    assert node.log.last_seq() == 1
    assert node.envelopes.head()[0] == 1


def test_status_health_and_metrics(client: TestClient) -> None:
    client.post("/api/v1/events", json=fund(1))
    status = client.get("/api/v1/status").json()
    assert status["last_seq"] == 1 and status["backlog"] == 1 and status["forwarded_seq"] == 0
    assert client.get("/health").json() == {"status": "ok"}
    metrics = client.get("/metrics").text
    assert "tongxin_node_last_seq 1.0" in metrics and "tongxin_node_backlog 1.0" in metrics
    assert client.get("/api/v1/events", params={"after": -1}).status_code == 422
