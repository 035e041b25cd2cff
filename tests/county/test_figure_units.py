"""The units of the figures' numbers: the exports' headers, served to the dashboard as one source."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.county.accounts.roles import Role
from services.county.exports.figure_labels import column
from services.county.exports.figure_units import unit_of, units
from tests.accounts import bearer
from tests.county import test_api_queries
from tests.county.test_api_queries import County

county = test_api_queries.county


def test_the_units_are_the_report_s() -> None:
    found = units()
    assert found["pioneer"]["legal.consulted.people"] == "人次"  # consultations, not people
    assert found["pioneer"]["enterprise.founded.households"] == "人"  # 带富乡亲 in 人, not 户
    assert found["pioneer"]["jobs.placed.people"] == "人"
    assert found["pioneer"]["returnee.invested.amount_fen"] == "元"
    assert found["pioneer"]["chamber.member_joined.by_kind.company.events"] == "家"
    assert found["pioneer"]["chamber.member_joined.by_kind.person.events"] == "人"
    assert found["education"]["training.by_mode.cloud.attendances"] == "人次"
    assert found["education"]["orglife.sessions"] == "次"
    assert found["education"]["coverage.rate"] == "%"
    assert found["funds"]["received.fiscal"] == "元" and found["funds"]["spendings"] == "笔"
    for figure, paths in found.items():
        for path, unit in paths.items():
            header = column(figure, path).header
            assert unit in ("元", "%") or header.endswith(f"（{unit}）"), (path, header)
    assert unit_of("pioneer", "investment.lead.households") == "户"  # 招商引资带富群众 stays 户


def leaves(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in leaves(v, f"{prefix}{k}.")}
    return {prefix.rstrip(".")}


def test_every_path_is_a_number_the_figures_give(county: County) -> None:
    for figure, paths in units().items():
        total = county.get(f"/api/v1/figures/{figure}")["total"]
        assert set(paths) <= leaves(total), figure


def test_the_units_are_served_to_readers_and_to_nobody_else(county: County) -> None:
    for role in Role:
        response = county.client.get("/api/v1/figures/units", headers=bearer(county.engine, role))
        if role in (Role.ANALYST, Role.TOWNSHIP_OFFICER):
            assert response.status_code == 200 and response.json() == units(), role
        else:
            assert response.status_code == 403, role
    assert TestClient(county.client.app).get("/api/v1/figures/units").status_code == 401
