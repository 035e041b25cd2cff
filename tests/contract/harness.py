"""Schemathesis over an app's own OpenAPI, every operation in turn, as a plain function a test calls
with its own fixtures (schemathesis' pytest plugin does not take parametrised fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

EXAMPLES = 50


def not_an_undeclared_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx but a 503 the operation declares: a readiness probe's "not ready" is its answer."""
    declared = case.operation.definition.raw.get("responses", {})
    if response.status_code == 503 and "503" in declared:
        return None
    result: bool | None = checks.not_a_server_error(ctx, response, case)
    return result


CHECKS = [
    not_an_undeclared_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
"""No 5xx (but a declared 503); every status, media type, body and header as the OpenAPI declares
it. Not the check that every schema-valid request is accepted: the API refuses values the schema
cannot express (an impossible date, an unknown node) with a 4xx that names the field, as it should."""


def check_every_operation(
    app: Any,
    examples: int = EXAMPLES,
    headers: dict[str, str] | Callable[[str], dict[str, str]] | None = None,
) -> list[str]:
    """Run schemathesis' checks on every operation of `app`'s OpenAPI; the operations run.
    `headers` are sent with every request, or made per operation from its path (a caller signed
    in with the role the operation is for)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ran: list[str] = []
    failed: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        run = _runner(operation, examples, headers(operation.path) if callable(headers) else headers)
        try:
            run()
        except (Exception, FailureGroup) as exc:  # each operation's failures, all reported
            failed.append(f"{operation.label}: {str(exc)[:1500]}")
        ran.append(operation.label)
    assert not failed, "\n\n".join(failed)
    return ran


def _runner(operation: Any, examples: int, sent: dict[str, str] | None) -> Any:
    """The hypothesis test of one operation, sending `sent` headers with every case."""

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, headers=sent)

    return run
