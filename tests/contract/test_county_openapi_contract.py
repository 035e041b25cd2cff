"""Schemathesis against the county's OpenAPI (issue 14): generated requests for every operation,
over the scenario county of the query tests, give no 5xx and no response that breaks the schema."""

from __future__ import annotations

from tests.accounts import ROLE_BY_PREFIX, bearer
from tests.contract.harness import check_every_operation
from tests.county import test_api_queries
from tests.county.test_api_queries import County

county = test_api_queries.county
"""The scenario county (a fixture)."""


def test_every_county_operation_keeps_its_contract(county: County) -> None:
    engine = county.client.app.state.engine
    tokens = {role: bearer(engine, role) for _, role in ROLE_BY_PREFIX} | {"analyst": bearer(engine)}

    def signed_in(path: str) -> dict[str, str]:
        """The role each operation is for: the requests reach the route, not only the 401."""
        return next((tokens[r] for prefix, r in ROLE_BY_PREFIX if path.startswith(prefix)), tokens["analyst"])

    ran = check_every_operation(county.client.app, headers=signed_in)
    assert len(ran) > 20, ran
