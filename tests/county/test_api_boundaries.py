"""Every query parameter of every GET route, fed boundary and hostile values: a 4xx naming the
parameter or an answer, never a 5xx (issue 14: `as_of=9999-12-31T23:59:59+00:00`,
`known_at=0001-01-01T00:00:00+14:00` and `offset=2^63` gave 500s)."""

from __future__ import annotations

from typing import Any

from tests.county import test_api_queries
from tests.county.test_api_queries import County

county = test_api_queries.county
"""The scenario county of the query tests (a fixture)."""

HOSTILE = [
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31",
    "0001-01-01",
    "2026-01-01T00:00:00",
    "9223372036854775808",
    "-9223372036854775809",
    "1e308",
    "",
    "\x00",
    "x" * 5000,
]
PATH_VALUES = {"member_id": "0" * 32, "org_id": "dongguan", "node_id": "dongguan"}
REQUIRED = {"figure": "funds"}
"""A valid value for each required query parameter, so that the one under test is the only bad one."""


def _get_routes(app: Any) -> list[tuple[str, list[str]]]:
    routes = []
    for path, ops in app.openapi()["paths"].items():
        if "get" not in ops or not path.startswith("/api"):
            continue
        params = [p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"]
        routes.append((path.format(**PATH_VALUES), params))
    return routes


def test_no_query_parameter_value_gives_a_5xx(county: County) -> None:
    routes = _get_routes(county.client.app)
    assert len(routes) > 20
    refused: dict[str, int] = {}
    for path, params in routes:
        for name in params:
            for value in HOSTILE:
                given = {k: v for k, v in REQUIRED.items() if k in params and k != name}
                response = county.client.get(path, params={**given, name: value})
                assert response.status_code < 500, (path, name, value, response.text[:300])
                if response.status_code == 422:
                    fields = [item["field"] for item in response.json()["detail"]]
                    assert all(f.split(".")[0] == name for f in fields), (path, name, value, fields)
                    refused[name] = refused.get(name, 0) + 1
    for name in ("as_of", "known_at", "offset", "limit"):
        assert refused.get(name), f"no hostile {name} was refused"
