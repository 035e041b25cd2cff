"""Schemathesis against the county's OpenAPI (issue 14): generated requests for every operation,
over the scenario county of the query tests, give no 5xx and no response that breaks the schema."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.county import test_api_queries
from tests.county.test_api_queries import County

county = test_api_queries.county
"""The scenario county (a fixture)."""

EXAMPLES = 50
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
"""No 5xx; every status, media type, body and header as the OpenAPI declares it. Not the check that
every schema-valid request is accepted: the API refuses values the schema cannot express (an
impossible date, an unknown node) with a 4xx that names the field, as it should."""


def check_every_operation(app: Any, examples: int = EXAMPLES) -> list[str]:
    """Run schemathesis' checks on every operation of `app`'s OpenAPI; the operations run."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ran: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
        )
        def run(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        run()
        ran.append(operation.label)
    return ran


def test_every_county_operation_keeps_its_contract(county: County) -> None:
    ran = check_every_operation(county.client.app)
    assert len(ran) > 20, ran
