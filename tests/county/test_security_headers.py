"""Every answer of the county carries the security headers; API reads are not cached."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.county.api.app import create_app
from services.county.api.headers import POLICY
from tests.accounts import bearer


def test_pages_files_and_api_answers_carry_the_headers(county_engine: Engine) -> None:
    client = TestClient(create_app(county_engine), headers=bearer(county_engine))
    for path in ("/", "/login", "/static/app.js", "/docs", "/api/v1/roster", "/health", "/api/v1/nope"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == POLICY, path
        assert "frame-ancestors 'none'" in POLICY and "script-src 'self'" in POLICY
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
    assert client.get("/api/v1/roster").headers["cache-control"] == "no-store"
    assert client.get("/").headers["cache-control"] == "no-cache"
