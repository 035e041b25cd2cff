"""The node's HTTP API on a real SQLite log: 4xx naming the field, nothing half-written; status,
health and metrics telling what the county confirmed from what was only sent, and a fork."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.forwarder import Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared import envelope
from tests.clerk import clerk_client
from tests.conftest import make_node_dir
from tests.county_receipts import COUNTY_KEY, accept
from tests.samples import fund, registration


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return clerk_client(node)


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


def metric(client: TestClient, name: str) -> float:
    (line,) = [x for x in client.get("/metrics").text.splitlines() if x.startswith(f"{name} ")]
    return float(line.split()[1])


def test_status_health_and_metrics(client: TestClient) -> None:
    client.post("/api/v1/events", json=fund(1))
    status = client.get("/api/v1/status").json()
    assert status["last_seq"] == 1 and status["backlog"] == 1 and status["forwarded_seq"] == 0
    assert (status["waiting"], status["unconfirmed"], status["confirmed_seq"]) == (1, 0, 0)
    assert status["fork"] is None and "resent" not in status, "no forwarder: no repair counters"
    health = client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    metrics = client.get("/metrics").text
    assert "tongxin_node_last_seq 1.0" in metrics and "tongxin_node_backlog 1.0" in metrics
    assert "tongxin_node_waiting 1.0" in metrics and "tongxin_node_forked 0.0" in metrics
    assert client.get("/api/v1/events", params={"after": -1}).status_code == 422


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[NodeService]:
    """A node given the county's receipt key, with five events logged and signed."""
    node = NodeService(make_node_dir(tmp_path / "keyed", county_public_key=COUNTY_KEY.public_key_hex))
    try:
        node.record([parse_item(fund(i), node.keys) for i in range(5)])
        yield node
    finally:
        node.close()


def test_confirmed_unconfirmed_and_waiting_follow_the_cursor_and_the_countys_receipt(
    keyed: NodeService,
) -> None:
    client = clerk_client(keyed, create_app(keyed))
    keyed.envelopes.advance(4)  # JetStream acknowledged 1..4
    accept(keyed, 2)  # the county's receipt: it holds 1..2
    status = client.get("/api/v1/status").json()
    assert (status["last_seq"], status["forwarded_seq"], status["confirmed_seq"]) == (5, 4, 2)
    assert (status["waiting"], status["unconfirmed"], status["backlog"]) == (1, 2, 3)
    assert status["last_receipt"]["seq"] == 2 and status["last_receipt"]["verified"] is True
    gauges = {
        "tongxin_node_forwarded_seq": 4,
        "tongxin_node_confirmed_seq": 2,
        "tongxin_node_unconfirmed": 2,
        "tongxin_node_waiting": 1,
        "tongxin_node_backlog": 3,
        "tongxin_node_forked": 0,
    }
    assert {name: metric(client, name) for name in gauges} == gauges

    keyed.envelopes.advance(5)
    accept(keyed, 5)
    status = client.get("/api/v1/status").json()
    assert (status["confirmed_seq"], status["unconfirmed"], status["waiting"], status["backlog"]) == (
        5,
        0,
        0,
        0,
    )
    assert metric(client, "tongxin_node_backlog") == 0
    assert client.get("/health").json() == {"status": "ok"}


def test_a_fork_turns_health_into_503_and_says_where(keyed: NodeService) -> None:
    client = clerk_client(keyed, create_app(keyed))
    keyed.envelopes.advance(5)
    accept(keyed, 3)
    accept(keyed, 4, hash="ab" * 32)  # the county's newest word: another history at seq 4
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json() == {
        "status": "forked",
        "fork": {"seq": 4, "reason": "the county holds seq 4 with another hash than this node's"},
    }
    status = client.get("/api/v1/status").json()
    assert status["fork"]["seq"] == 4 and status["confirmed_seq"] == 3 and status["backlog"] == 2
    assert metric(client, "tongxin_node_forked") == 1


def test_a_serving_node_shows_the_forwarders_repairs_and_its_own_stop(keyed: NodeService) -> None:
    forwarder = Forwarder(keyed, "nats://127.0.0.1:1")
    client = clerk_client(keyed, create_app(keyed, forwarder))
    forwarder.state.resent, forwarder.state.repairs, forwarder.state.requests = 7, 2, 1
    status = client.get("/api/v1/status").json()
    assert (status["resent"], status["repairs"], status["requests"], status["forked"]) == (7, 2, 1, None)
    assert status["nats_connected"] is False
    assert metric(client, "tongxin_node_resent_total") == 7
    assert metric(client, "tongxin_node_repairs_total") == 2
    assert metric(client, "tongxin_node_resend_requests_total") == 1
    assert client.get("/health").status_code == 200

    forwarder.state.forked = "the county asked for seq 9; this node's log ends at 5"
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["fork"] == {
        "seq": None,
        "reason": forwarder.state.forked,
    }
    assert client.get("/api/v1/status").json()["forked"] == forwarder.state.forked
    assert metric(client, "tongxin_node_forked") == 1
