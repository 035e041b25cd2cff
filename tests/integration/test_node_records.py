"""The node's recent records (`GET /api/v1/records`) and corrections recorded through its API, on a
real node: newest first, paged and bounded, names opened here and ID numbers never in full, each
record marked by its corrections; a correction the node's log refuses is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.service import NodeService
from tests.clerk import BASE_URL, clerk_client
from tests.samples import fund, id_number, registration


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return clerk_client(node)


def post(client: TestClient, item: dict[str, Any]) -> Any:
    return client.post("/api/v1/events", json=item)


def records(client: TestClient, **params: Any) -> Any:
    r = client.get("/api/v1/records", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_anonymous_gets_401_and_nothing(node: NodeService) -> None:
    anonymous = TestClient(create_app(node), base_url=BASE_URL)
    r = anonymous.get("/api/v1/records")
    assert r.status_code == 401 and r.json()["detail"][0]["field"] == "authorization"


def test_newest_first_paged_and_bounded(client: TestClient) -> None:
    for i in range(5):
        assert post(client, fund(i)).status_code == 201
    page = records(client, limit=2)
    assert [r["seq"] for r in page["records"]] == [5, 4] and page["next_before"] == 4
    page = records(client, limit=2, before=page["next_before"])
    assert [r["seq"] for r in page["records"]] == [3, 2]
    assert [r["seq"] for r in records(client, limit=2, before=2)["records"]] == [1]
    assert records(client, limit=2, before=2)["next_before"] is None
    assert records(client)["records"][0]["fields"] == {
        "org_id": "dongguan",
        "source": "host_subsidy",
        "amount_fen": 10_004,
        "note": "",
    }
    for params, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"before": 0}, "before")):
        r = client.get("/api/v1/records", params=params)
        assert r.status_code == 422 and field in r.text, r.text


def test_names_are_opened_here_and_id_numbers_never_shown_in_full(client: TestClient) -> None:
    assert post(client, registration(1)).status_code == 201
    member = registration(1)["payload"]["member_id"]
    item = {
        "type": "member.returned",
        "occurred_at": "2026-01-06T09:00:00+08:00",
        "payload": {"member_id": member},
    }
    assert post(client, item).status_code == 201
    r = client.get("/api/v1/records")
    assert (
        id_number(1) not in r.text
        and "13800000001" not in r.text
        and '"sealed"' not in r.text.split('"carry"')[0]
    )
    returned, registered = r.json()["records"]
    tail = id_number(1)[-4:]
    assert registered["fields"]["personal"] == {"name": "成员1", "id_tail": tail}
    assert returned["names"] == {member: f"成员1（尾号{tail}）"}
    assert registered["carry"]["member_id"] == member and "sealed" in registered["carry"]["personal"]


def test_a_record_shows_its_corrections_and_the_effective_fields(client: TestClient) -> None:
    assert post(client, fund(1)).status_code == 201
    (original,) = records(client)["records"]
    fix = {
        "type": "record.corrected",
        "payload": {
            "target_seq": 1,
            "target_event_id": original["event_id"],
            "reason": "金额录入错误",
            "replacement": {"type": "fund.received", **original["fields"], "amount_fen": 500_000},
        },
    }
    assert post(client, fix).status_code == 201
    correction, corrected = records(client)["records"]
    assert corrected["state"] == "corrected" and corrected["fields"]["amount_fen"] == 500_000
    assert [c["reason"] for c in corrected["corrections"]] == ["金额录入错误"]
    assert correction["type"] == "record.corrected" and correction["corrects"] == 1
    assert not correction["correctable"] and not correction["voidable"]
    void = {
        "type": "record.voided",
        "payload": {
            "target_seq": 1,
            "target_event_id": original["event_id"],
            "target_type": "fund.received",
            "reason": "重复",
        },
    }
    assert post(client, void).status_code == 201
    assert records(client)["records"][-1]["state"] == "voided"
    again = post(client, void)
    assert again.status_code == 422
    assert again.json()["detail"][0]["field"] == "payload.target_seq" and "void is final" in again.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target_seq": 9}, "payload.target_seq"),
        ({"target_event_id": "00000000-0000-4000-8000-000000000000"}, "payload.target_event_id"),
        ({"target_type": "legal.consulted"}, "payload.target_type"),
    ],
)
def test_a_void_the_log_refuses_names_the_field(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    assert post(client, fund(1)).status_code == 201
    (original,) = records(client)["records"]
    payload = {
        "target_seq": 1,
        "target_event_id": original["event_id"],
        "target_type": "fund.received",
        "reason": "x",
    }
    r = post(client, {"type": "record.voided", "payload": payload | changes})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text
    assert records(client)["last_seq"] == 1


def test_a_void_of_a_return_puts_the_member_back_out_in_the_members_list(client: TestClient) -> None:
    assert post(client, registration(2)).status_code == 201
    member = registration(2)["payload"]["member_id"]
    item = {
        "type": "member.returned",
        "occurred_at": "2026-01-06T09:00:00+08:00",
        "payload": {"member_id": member},
    }
    assert post(client, item).status_code == 201
    assert [m["status"] for m in client.get("/api/v1/members").json()["members"]] == ["returned"]
    returned = records(client)["records"][0]
    void = {"target_seq": 2, "target_event_id": returned["event_id"], "target_type": "member.returned"}
    assert post(client, {"type": "record.voided", "payload": void | {"reason": "误录"}}).status_code == 201
    assert [m["status"] for m in client.get("/api/v1/members").json()["members"]] == ["out"]
    assert post(client, item).status_code == 201, "the node's own check follows the void too"
