"""Who may use what at the county (issue 14): every route declares its roles, nobody else gets in,
and a township officer sees their own township only — in every endpoint, export and figure."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.county.accounts.roles import Role
from services.county.api.app import create_app
from services.county.api.auth import PUBLIC
from tests.accounts import bearer
from tests.county import test_api_queries
from tests.county.test_api_queries import County, M

county = test_api_queries.county
"""The scenario county: t1 holds m1–m6 (villages v1, v2), t2 holds m7–m10 (v3)."""

ROLES_OF = {
    "/api/v1/members/{member_id}/reveal": {Role.AUDITOR, Role.OPERATOR},
    "/api/v1/reveals": {Role.AUDITOR, Role.OPERATOR},
    "/api/v1/audit/": {Role.AUDITOR},
    "/api/v1/digest": {Role.AUDITOR, Role.OPERATOR},
    "/api/v1/quarantine": {Role.OPERATOR, Role.AUDITOR},
    "/api/v1/nodes": {Role.ANALYST, Role.OPERATOR},
    "/api/v1/conflicts": {Role.ANALYST, Role.OPERATOR},
    "/api/v1/orgs": {Role.ANALYST, Role.TOWNSHIP_OFFICER, Role.OPERATOR},
    "/metrics": {Role.OPERATOR},
    "/api/v1/session": set(Role),
}
"""The roles meant for each route (by prefix); the rest (roster, members, figures, alerts,
exports) are the analyst's and the township officer's. Written out here, apart from the code, so
that a route moved to another role shows up."""
READERS = {Role.ANALYST, Role.TOWNSHIP_OFFICER}
OPEN = {("/health", "get"), ("/ready", "get"), ("/api/v1/session", "post")}
ASSETS = {"/", "/docs", "/docs/init.js", "/docs/assets", "/static", "/openapi.json", "/login"}
"""Routes outside the OpenAPI, all without data: the dashboard's and /docs' pages and files."""
VALUES = {"member_id": M[1], "org_id": "dongguan", "node_id": "dongguan"}


def meant_for(path: str) -> set[Role]:
    return next((roles for prefix, roles in ROLES_OF.items() if path.startswith(prefix)), READERS)


def operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_every_operation_declares_its_roles_or_why_it_is_open(county_engine: Engine) -> None:
    app = create_app(county_engine)
    for path, method, operation in operations(app):
        if (path, method) in OPEN:
            assert operation[PUBLIC] and "security" not in operation, path
            continue
        assert PUBLIC not in operation, path
        schemes = operation.get("security")
        assert schemes, f"{method.upper()} {path} declares no role"
        for requirement in schemes:
            (roles,) = requirement.values()
            assert set(roles) == meant_for(path), (path, roles)
        assert {"401", "403"} <= set(operation["responses"]), path
    top = [r for r in app.router.routes if hasattr(r, "path")]  # routers included are in the OpenAPI
    outside = {r.path for r in top if not isinstance(r, APIRoute) or not r.include_in_schema}
    outside.discard("/docs/oauth2-redirect")
    assert {p for p in outside if not p.startswith("/api")} <= ASSETS, outside
    assert not {p for p in outside if p.startswith("/api")}, "an /api route hidden from the OpenAPI"


def test_each_role_reaches_its_routes_and_nobody_else_does(county_engine: Engine) -> None:
    app = create_app(county_engine)
    anonymous = TestClient(app)
    clients = {role: TestClient(app, headers=bearer(county_engine, role, township="t1")) for role in Role}
    checked = 0
    for path, method, _ in operations(app):
        if (path, method) in OPEN:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], path)
        if method == "delete":  # sign-out: last, it would end nothing of a bearer token anyway
            continue
        assert anonymous.request(method, url).status_code == 401, url
        for role, client in clients.items():
            status = client.request(method, url).status_code
            if role in meant_for(path):
                assert status not in (401, 403), (url, role, status)
            else:
                assert status == 403, (url, role, status)
            checked += 1
    assert checked == 4 * 35  # every guarded operation but sign-out, as each role
    assert anonymous.get("/health").status_code == 200
    bad = {"Authorization": "Bearer not-a-token"}
    assert TestClient(app, headers=bad).get("/api/v1/roster").status_code == 401


@pytest.fixture
def officer(county: County) -> TestClient:
    """A township officer of t1, on the scenario county."""
    return TestClient(county.client.app, headers=bearer(county.engine, Role.TOWNSHIP_OFFICER, "t1"))


def test_a_township_officer_sees_their_township_only(county: County, officer: TestClient) -> None:
    def get(url: str, **params: Any) -> Any:
        response = officer.get(url, params=params)
        assert response.status_code == 200, (url, response.text)
        return response.json()

    county_wide = county.get("/api/v1/roster")
    mine = get("/api/v1/roster")
    assert mine == get("/api/v1/roster", township="t1") == county.get("/api/v1/roster", township="t1")
    assert mine["total"] != county_wide["total"]
    for url, params in [
        ("/api/v1/roster", {"township": "t2"}),
        ("/api/v1/roster", {"township": "-"}),
        ("/api/v1/roster/members.csv", {"township": "t2"}),
        ("/api/v1/alerts", {"township": "t2"}),
        ("/api/v1/figures/funds", {"township": "t2"}),
        ("/api/v1/export/roster.xlsx", {"township": "t2"}),
        ("/api/v1/export/alerts.xlsx", {"township": "t2"}),
        ("/api/v1/export/alerts.csv", {"township": "t2"}),
        ("/api/v1/export/figures.csv", {"figure": "funds", "township": "t2"}),
    ]:
        refused = officer.get(url, params=params)
        assert refused.status_code == 403 and refused.json()["detail"][0]["field"] == "township", url
    assert get("/api/v1/roster", village="v3")["total"] == 0  # another township's village: absent
    names = {m["member_id"] for m in get("/api/v1/roster/members", limit=1000)["items"]}
    assert names == {M[i] for i in range(1, 7)} & names and M[7] not in names and names
    assert officer.get(f"/api/v1/members/{M[8]}").status_code == 404
    assert officer.get(f"/api/v1/members/{M[8]}/co-managers").status_code == 404
    assert get(f"/api/v1/members/{M[5]}")["member_id"] == M[5]
    alerts = get("/api/v1/alerts", limit=1000)
    assert {a["township"] for a in alerts["items"]} <= {"t1"}
    # a page shorter than the officer's alerts still counts them all, and only theirs
    one = get("/api/v1/alerts", limit=1)
    assert len(one["items"]) == 1 and one["total"] == len(alerts["items"]) > 1
    assert one["total"] == county.get("/api/v1/alerts", township="t1")["total"]
    assert one["total"] < county.get("/api/v1/alerts", limit=1)["total"]
    groups = get("/api/v1/figures/pioneer", group_by="township")
    assert {g["key"] for g in groups.get("groups", [])} <= {"t1"}, groups
    orgs = {o["org_id"] for o in get("/api/v1/orgs")["items"]}
    assert {"t1", "v1", "v2", "dongguan"} <= orgs and not {"t2", "v3", "c1"} & orgs
    assert officer.get("/api/v1/orgs/v3/co-managed").status_code == 404
    huadu = get("/api/v1/orgs/huadu/co-managed")
    seen = {m["member_id"] for ms in huadu["co_managed"].values() for m in ms}
    assert M[5] in seen and M[8] not in seen
    book = openpyxl.load_workbook(io.BytesIO(officer.get("/api/v1/export/roster.xlsx").content))
    cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
    assert M[5] in cells and M[8] not in cells
    csv_text = officer.get("/api/v1/roster/members.csv").text
    assert M[5] in csv_text and M[8] not in csv_text
