"""Schemathesis against the county's OpenAPI (issue 14): generated requests for every operation,
over the scenario county of the query tests, give no 5xx and no response that breaks the schema."""

from __future__ import annotations

from tests.contract.harness import check_every_operation
from tests.county import test_api_queries
from tests.county.test_api_queries import County

county = test_api_queries.county
"""The scenario county (a fixture)."""


def test_every_county_operation_keeps_its_contract(county: County) -> None:
    ran = check_every_operation(county.client.app)
    assert len(ran) > 20, ran
