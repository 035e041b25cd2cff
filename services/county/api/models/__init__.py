"""The shapes the query API returns, one module per resource, as pydantic models for the OpenAPI.

Declared on the routes (`responses.ok(Model)`), not run on each answer; every field is required
(present, maybe null) and no other key comes back (`extra="forbid"`): the tests validate real
answers against them (tests/county/test_openapi.py).
"""
