"""The pickers' API at the node (issue 16): the county's tree and the members a clerk may pick,
from the node's own cache and log, searchable and bounded, for the signed-in clerk only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.reference import RefusedReferenceError, cache_of
from shared import reference as r
from shared import repair
from shared.signing import Signer
from tests.clerk import BASE_URL, bearer, clerk_client
from tests.reference_scenario import MOVED, County, cache_offline, county, registration

ORGS = "/api/v1/reference/orgs"
MEMBERS = "/api/v1/reference/members"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[County]:
    c = county(tmp_path)
    try:
        cache_offline(c)
        yield c
    finally:
        c.close()


@pytest.fixture
def client(site: County) -> TestClient:
    return clerk_client(site.dongguan)


def test_an_anonymous_caller_gets_401_and_a_bearer_token_gets_the_data(site: County) -> None:
    anonymous = TestClient(create_app(site.dongguan), base_url=BASE_URL)
    token = bearer(site.dongguan)
    for path in (ORGS, MEMBERS):
        refused = anonymous.get(path)
        assert refused.status_code == 401, path
        assert "王小明" not in refused.text and "上塘" not in refused.text
        assert anonymous.get(path, headers=token).status_code == 200


def test_organisations_are_found_by_chinese_name_or_code_and_kind(client: TestClient) -> None:
    found = client.get(ORGS, params={"q": "上塘"}).json()
    assert [(o["org_id"], o["name"]) for o in found["items"]] == [
        ("v-shangtang", "上塘村党支部"),
        ("t-shangtang", "上塘镇党委"),
    ]
    assert found["county"] == {"id": "jx", "name": "中共江县委员会"}
    assert found["node"] == {"id": "dongguan", "org_id": "dongguan", "name": "驻东莞服务站党支部"}
    assert found["verified"] is True
    villages = client.get(ORGS, params={"kind": "village_branch"}).json()["items"]
    assert [(o["org_id"], o["parent_name"]) for o in villages] == [
        ("v-shangtang", "上塘镇党委"),
        ("v-xiling", "上塘镇党委"),
    ]
    by_code = client.get(ORGS, params={"q": "DG-HOST"}).json()["items"]
    assert [(o["org_id"], o["host_location"]) for o in by_code] == [("dg-host", "广东东莞")]
    assert client.get(ORGS, params={"limit": 2}).json()["total"] == 7


def test_members_are_this_nodes_own_and_its_co_managed_by_name_and_status(
    client: TestClient, site: County
) -> None:
    for i, name in ((3, "张三"), (4, "赵六")):
        assert client.post("/api/v1/events", json=registration(i, name, "dongguan")).status_code == 201
    own = {m["name"]: m["member_id"] for m in client.get("/api/v1/members").json()["members"]}
    back = {"type": "member.returned", "payload": {"member_id": own["赵六"]}}
    assert client.post("/api/v1/events", json=back).status_code == 201

    everyone = client.get(MEMBERS, params={"limit": 5000}).json()
    brief = [(m["name"], m["source"], m["status"], m["home_branch_name"]) for m in everyone["items"]]
    assert sorted(brief) == sorted(
        [
            ("张三", "own", "out", "上塘村党支部"),
            ("赵六", "own", "returned", "上塘村党支部"),
            ("王小明", "co_managed", "out", "上塘村党支部"),
        ]
    )
    away = client.get(MEMBERS, params=[("status", "out"), ("status", "contact_lost")]).json()["items"]
    assert sorted(m["name"] for m in away) == ["张三", "王小明"]
    (wang,) = client.get(MEMBERS, params={"q": "王"}).json()["items"]
    assert (wang["member_id"], wang["id_tail"]) == (MOVED, None)
    assert "431126" not in str(everyone)  # no ID number, not even of the node's own members


BAD: list[tuple[str, dict[str, Any], str]] = [
    (ORGS, {"q": "上" * 51}, "q"),
    (ORGS, {"limit": 0}, "limit"),
    (ORGS, {"limit": 5001}, "limit"),
    (ORGS, {"kind": "planet"}, "kind"),
    (MEMBERS, {"status": "asleep"}, "status"),
    (MEMBERS, {"q": "x" * 51}, "q"),
]


@pytest.mark.parametrize(("path", "params", "field"), BAD)
def test_every_query_parameter_is_bounded_and_a_bad_one_named(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422
    assert field in str(r.json()["detail"])


def test_the_node_takes_only_a_newer_document_of_its_county_signed_by_a_key_it_trusts(site: County) -> None:
    cache = cache_of(site.dongguan)
    held = cache.held(r.OrgTreeDoc)
    assert held is not None
    unsigned = msgspec.structs.replace(held, at="2099-01-01T00:00:00.000000Z")
    with pytest.raises(RefusedReferenceError, match="not signed by a county key this node trusts"):
        cache.take(r.encode(repair.sign(unsigned, Signer.generate())), r.OrgTreeDoc)
    other = msgspec.structs.replace(unsigned, county_id="xx")
    with pytest.raises(RefusedReferenceError, match="for county xx"):
        cache.take(r.encode(repair.sign(other, site.signer)), r.OrgTreeDoc)
    older = msgspec.structs.replace(held, at="2020-01-01T00:00:00.000000Z", orgs=[])
    assert cache.take(r.encode(repair.sign(older, site.signer)), r.OrgTreeDoc) is False
    mine = cache.held(r.CoManagedDoc)
    assert mine is not None
    theirs = msgspec.structs.replace(mine, node_id="huadu", at="2099-01-01T00:00:00.000000Z")
    with pytest.raises(RefusedReferenceError, match="for node huadu"):
        cache.take(r.encode(repair.sign(theirs, site.signer)), r.CoManagedDoc)
    assert cache.held(r.OrgTreeDoc) == held  # nothing refused replaced what it holds
    (site.dongguan.dir.path / "reference-orgs.json").write_bytes(b"{not json")
    assert cache_of(site.dongguan).held(r.OrgTreeDoc) is None  # an unreadable cache is none, not a 500
