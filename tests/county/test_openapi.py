"""The OpenAPI says what comes back: every JSON route declares a 200 schema, files their media types,
and the 4xx bodies the app really sends (SQLite and PostgreSQL); real answers of every route, on
the scenario county of test_api_queries, conform to the schemas declared."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from services.branch_node.service import NodeService
from services.county.accounts.roles import Role
from services.county.api.app import create_app
from services.county.api.deps import KNOWN_AT_NOTE, KNOWN_AT_PARAM
from tests.accounts import CountyClient, bearer
from tests.county.helpers import enrol_nodes, open_node, record
from tests.county.test_api_queries import (  # noqa: F401 (county: the fixture)
    CANDIDATE,
    County,
    M,
    arriving,
    county,
    registration,
)
from tests.samples import fund, id_number

Spec = dict[str, Any]
FILES = {
    "/api/v1/roster/members.csv": "text/csv",
    "/api/v1/export/figures.csv": "text/csv",
    "/api/v1/export/roster.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "/api/v1/export/figures.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "/api/v1/export/alerts.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "/api/v1/export/alerts.csv": "text/csv",
    "/api/v1/reveals/roster.csv": "text/csv",
    "/api/v1/reveals/roster.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "/api/v1/audit/export": "application/zip",
    "/metrics": "text/plain",
}
REFUSAL_KEYS = {"field", "message", "loc", "type"}


def spec_of(engine: Engine) -> Spec:
    return create_app(engine).openapi()


def resolve(spec: Spec, schema: Spec) -> Spec:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def problems(spec: Spec, value: Any, schema: Spec, at: str = "$") -> list[str]:
    """Where `value` breaks `schema` (the JSON Schema subset the app's OpenAPI uses)."""
    schema = resolve(spec, schema)
    if "anyOf" in schema:
        found = [problems(spec, value, s, at) for s in schema["anyOf"]]
        return [] if any(not p for p in found) else [f"{at}: matches none of anyOf ({found})"]
    kind = schema.get("type")
    types = {
        "object": dict,
        "array": list,
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "null": type(None),
    }
    if kind is not None and not isinstance(value, types[kind]):
        return [f"{at}: {value!r} is not {kind}"]
    if kind in ("integer", "number") and isinstance(value, bool):
        return [f"{at}: {value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} not in {schema['enum']}"]
    out: list[str] = []
    if kind == "array":
        for i, item in enumerate(value):
            out += problems(spec, item, schema.get("items", {}), f"{at}[{i}]")
    if kind == "object":
        declared = schema.get("properties", {})
        out += [f"{at}: lacks {key!r}" for key in schema.get("required", []) if key not in value]
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in declared:
                out += problems(spec, item, declared[key], f"{at}.{key}")
            elif extra is False:
                out.append(f"{at}: {key!r} is not declared")
            elif isinstance(extra, dict):
                out += problems(spec, item, extra, f"{at}.{key}")
    return out


def declared(spec: Spec, path: str, code: str = "200", method: str = "get") -> Spec:
    operation = spec["paths"][path][method]
    return operation["responses"][code]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_every_json_route_declares_what_it_returns_and_files_their_media_types(county_engine: Engine) -> None:
    spec = spec_of(county_engine)
    json_routes = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if (path, method) == ("/api/v1/session", "delete"):
                assert set(operation["responses"]) >= {"204", "401", "403"}
                continue
            content = operation["responses"]["200"].get("content", {})
            if path in FILES:
                assert list(content) == [FILES[path]], path
                assert content[FILES[path]]["schema"]["type"] == "string", path
                continue
            json_routes += 1
            schema = resolve(spec, content["application/json"]["schema"])
            assert schema.get("type") == "object" and schema.get("properties"), f"{path}: {schema}"
            assert operation["responses"]["200"]["description"], path
    assert json_routes == 28  # with sign-in, who-am-I, refused claims, a reveal, reveals, units, /ready


def test_the_422_declared_is_the_one_the_app_sends(county_engine: Engine) -> None:
    spec = spec_of(county_engine)
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    with_422 = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "422" in operation["responses"]:
                with_422 += 1
                assert declared(spec, path, "422", method) == {
                    "$ref": "#/components/schemas/RequestRefused"
                }, path
    assert with_422 == 31  # every route with a parameter, and the bodies of sign-in and reveals
    item = resolve(
        spec, resolve(spec, declared(spec, "/api/v1/roster", "422"))["properties"]["detail"]["items"]
    )
    assert set(item["properties"]) == REFUSAL_KEYS and set(item["required"]) == {"field", "message"}
    refused = resolve(spec, declared(spec, "/api/v1/members/{member_id}", "404"))
    assert set(resolve(spec, refused["properties"]["detail"]["items"])["properties"]) == {"field", "message"}


@pytest.mark.parametrize(
    ("path", "params", "code", "keys"),
    [
        ("/api/v1/roster/members", {"limit": "0"}, 422, REFUSAL_KEYS),  # FastAPI refused it
        ("/api/v1/figures/funds", {"from": "2026-05-01", "to": "2026-04-01"}, 422, {"field", "message"}),
        ("/api/v1/roster", {"as_of": "2026-03-05T10:00:00"}, 422, {"field", "message"}),  # a query refused it
        ("/api/v1/members/" + "0" * 32, {}, 404, {"field", "message"}),
        ("/api/v1/nodes/nowhere", {}, 404, {"field", "message"}),
    ],
)
def test_a_real_refusal_conforms_to_the_schema_declared(
    county_engine: Engine, path: str, params: dict[str, str], code: int, keys: set[str]
) -> None:
    spec = spec_of(county_engine)
    response = CountyClient(create_app(county_engine)).get(path, params=params)
    assert response.status_code == code, response.text
    body = response.json()
    route = path if path in spec["paths"] else _template(spec, path)
    assert problems(spec, body, declared(spec, route, str(code))) == []
    assert list(body) == ["detail"] and {frozenset(item) for item in body["detail"]} == {frozenset(keys)}


def _template(spec: Spec, path: str) -> str:
    """The OpenAPI path (`/api/v1/nodes/{node_id}`) a concrete path matches."""
    parts = path.split("/")
    for candidate in spec["paths"]:
        pattern = candidate.split("/")
        if len(pattern) == len(parts) and all(
            p == q or p.startswith("{") for p, q in zip(pattern, parts, strict=True)
        ):
            return candidate
    raise AssertionError(f"no route for {path}")


def test_real_answers_of_every_json_route_conform_to_their_schemas(county: County) -> None:  # noqa: F811
    spec = county.client.app.openapi()  # type: ignore[attr-defined]
    node = NodeService(
        county.root / "county"
    )  # candidate 52 registers as a member: the card shows the review
    try:
        item = {**registration(1), "occurred_at": "2026-07-20T09:00:00+08:00"}
        personal = {"name": "候选52", "id_number": id_number(52)}
        item["payload"] = {**item["payload"], "member_id": CANDIDATE[52], "personal": personal}
        (registered,) = record(node, [item])
    finally:
        node.close()
    assert county.ingestor.process([arriving(registered, 5)]) == ["archived"]
    hainan = open_node(county.root, "hainan")  # speaks out of turn: a refused claim to list
    try:
        (spoken,) = record(hainan, [fund(1, org="dongguan")])
    finally:
        hainan.close()
    enrol_nodes(county.engine, hainan)
    assert county.ingestor.process([arriving(spoken, 5)]) == ["archived"]
    m1, candidate = M[1], CANDIDATE[52]
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/health", {}),
        ("/api/v1/audit/verify", {}),
        (f"/api/v1/audit/history/member/{m1}", {}),
        ("/api/v1/audit/history/org/dongguan", {}),
        ("/api/v1/audit/replay", {"known_at": "2026-11-01"}),
        ("/api/v1/audit/replay", {"as_of": "2026-03-01"}),
        ("/api/v1/audit/digest", {}),
        ("/api/v1/audit/digest", {"as_of": "2026-03-01"}),
        ("/api/v1/roster", {}),
        ("/api/v1/roster", {"township": "t1"}),
        ("/api/v1/roster", {"village": "v1", "as_of": "2026-03-01"}),
        ("/api/v1/roster", {"township": "-", "known_at": "2026-11-01"}),
        ("/api/v1/roster/members", {}),
        ("/api/v1/roster/members", {"as_of": "2026-03-01", "limit": 3}),
        *((f"/api/v1/members/{m}", p) for m in M.values() for p in ({}, {"as_of": "2026-06-30"})),
        (f"/api/v1/members/{candidate}", {}),
        (f"/api/v1/members/{candidate}", {"as_of": "2026-11-27"}),
        (f"/api/v1/members/{m1}/co-managers", {}),
        (f"/api/v1/members/{m1}/co-managers", {"as_of": "2026-03-01"}),
        ("/api/v1/orgs", {}),
        *(
            (f"/api/v1/orgs/{o}/co-managed", p)
            for o in ("dongguan", "huadu", "v1")
            for p in ({}, {"as_of": "2026-06-30"})
        ),
        ("/api/v1/alerts", {}),
        ("/api/v1/alerts", {"as_of": "2026-11-27"}),
        ("/api/v1/alerts", {"as_of": "2026-06-30", "known_at": "2026-11-01"}),
        *(
            (f"/api/v1/figures/{f}", p)
            for f in ("funds", "pioneer", "education")
            for p in (
                {},
                {"group_by": "org"},
                {"group_by": "mode"},
                {"group_by": "township"},
                {"group_by": "month"},
                {"as_of": "2026-06-30", "group_by": "org"},
                {"known_at": "2026-11-01", "group_by": "township"},
            )
        ),
        ("/api/v1/figures/units", {}),
        ("/api/v1/nodes", {}),
        ("/api/v1/nodes/dongguan", {}),
        ("/api/v1/conflicts", {}),
        ("/api/v1/quarantine", {"all": "true"}),
        ("/api/v1/quarantine/claims", {}),
        ("/api/v1/digest", {}),
        ("/api/v1/session", {}),
        ("/api/v1/reveals", {}),
    ]
    answered: set[str] = set()
    for path, params in requests:
        response = county.client.get(path, params=params)
        assert response.status_code == 200, (path, params, response.text)
        route = path if path in spec["paths"] else _template(spec, path)
        assert problems(spec, response.json(), declared(spec, route)) == [], (path, params)
        answered.add(route)
    revealed = f"/api/v1/members/{m1}/reveal"
    auditor = bearer(county.engine, Role.AUDITOR)
    response = county.client.post(revealed, json={"reason": "核对身份"}, headers=auditor)
    assert response.status_code == 200, response.text
    route = "/api/v1/members/{member_id}/reveal"
    assert problems(spec, response.json(), declared(spec, route, "200", "post")) == []
    answered.add(route)
    not_ready = county.client.get("/ready")  # no ingest in this app: the 503 is the one declared
    assert not_ready.status_code == 503
    assert problems(spec, not_ready.json(), declared(spec, "/ready", "503")) == []
    answered.add("/ready")
    json_routes = {path for path in spec["paths"] if path not in FILES}
    assert answered == json_routes
    assert county.get("/api/v1/quarantine/claims")["total"] == 1  # the schema was held to an item


def test_every_route_taking_known_at_documents_its_one_meaning(county_engine: Engine) -> None:
    spec = spec_of(county_engine)
    taking = []
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            params = {p["name"]: p for p in operation.get("parameters", [])}
            if "known_at" in params:
                taking.append(path)
                assert params["known_at"]["description"] == KNOWN_AT_PARAM, path
                assert KNOWN_AT_NOTE in operation["description"], path
    assert len(taking) == 16 and "/api/v1/figures/funds" in taking and "/api/v1/export/figures.csv" in taking
