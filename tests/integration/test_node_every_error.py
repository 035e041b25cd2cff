"""The node's API on a real node answers every bad field of an event in one answer: the check
the page runs as the clerk types, recording one event, and a batch; and only for the clerk."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.service import NodeService
from tests.clerk import BASE_URL, clerk_client
from tests.samples import fund, registration

FIVE = [
    "payload.personal.id_number",
    "payload.personal.phone",
    "payload.home_branch",
    "payload.flowed_out_on",
    "occurred_at",
]


def five_bad_fields() -> dict[str, Any]:
    """A registration as the issue found it: five fields wrong, of four kinds."""
    item = registration(1)
    del item["payload"]["member_id"]  # as the page sends it: the ID number gives the member id
    item["payload"]["personal"].update(id_number="431126196001010001", phone="12")
    item["payload"].update(home_branch="上塘村", flowed_out_on="2019-13-01")
    item["occurred_at"] = "2099-01-01T09:00:00+08:00"
    return item


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return clerk_client(node)


def test_one_check_names_all_five_bad_fields(client: TestClient, node: NodeService) -> None:
    r = client.post("/api/v1/events/check", json=five_bad_fields())
    assert r.status_code == 200 and r.json()["ok"] is False
    assert [e["field"] for e in r.json()["errors"]] == FIVE
    assert all(e["message"] for e in r.json()["errors"])
    assert node.log.last_seq() == 0


def test_recording_refuses_with_all_five_in_one_422(client: TestClient, node: NodeService) -> None:
    r = client.post("/api/v1/events", json=five_bad_fields())
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == FIVE
    messages = {e["field"]: e["message"] for e in r.json()["detail"]}
    assert messages["payload.personal.id_number"] == "check digit does not match (GB 11643)"
    assert "is in the future" in messages["occurred_at"]
    assert node.log.last_seq() == 0


def test_a_batch_names_each_item_and_each_of_its_fields(client: TestClient, node: NodeService) -> None:
    bad_fund = fund(2)
    bad_fund["payload"].update(amount_fen=-5, source="lottery", org_id="东莞")
    r = client.post("/api/v1/events/batch", json={"events": [fund(1), five_bad_fields(), bad_fund]})
    assert r.status_code == 422
    assert [(e["index"], e["field"]) for e in r.json()["detail"]] == [
        *((1, field) for field in FIVE),
        (2, "payload.org_id"),
        (2, "payload.source"),
        (2, "payload.amount_fen"),
    ]
    assert node.log.last_seq() == 0


def test_the_logs_own_rules_are_every_one_too(client: TestClient, node: NodeService) -> None:
    """The fields read; the times do not: a future time and a departure after it, together."""
    item = registration(1)
    item["occurred_at"] = "2099-01-01T09:00:00+08:00"
    item["payload"]["flowed_out_on"] = "2099-06-01"
    check = client.post("/api/v1/events/check", json=item).json()
    assert [e["field"] for e in check["errors"]] == ["occurred_at", "payload.flowed_out_on"]
    recorded = client.post("/api/v1/events", json=item)
    assert recorded.status_code == 422
    assert [e["field"] for e in recorded.json()["detail"]] == ["occurred_at", "payload.flowed_out_on"]


@pytest.mark.parametrize("path", ["/api/v1/events/check", "/api/v1/events", "/api/v1/events/batch"])
def test_without_signing_in_the_answer_is_401_and_names_no_field_of_the_event(
    node: NodeService, path: str
) -> None:
    anonymous = TestClient(create_app(node), base_url=BASE_URL)
    body = {"events": [five_bad_fields()]} if path.endswith("batch") else five_bad_fields()
    r = anonymous.post(path, json=body)
    assert r.status_code == 401
    assert [e["field"] for e in r.json()["detail"]] == ["authorization"]
    assert node.log.last_seq() == 0
