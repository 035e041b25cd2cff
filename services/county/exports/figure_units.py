"""The unit of every headline number of the figures, as the exports' headers give it — the one
source the dashboard reads its units from (`GET /api/v1/figures/units`).

A number is named by its dotted path in the figure's JSON, as in `figure_labels`; its unit is
the one in brackets at the end of its header (`法律咨询（人次）` → 人次), 元 for money, % for a rate.
Per-category numbers carry the unit of their metric, but for a category with a unit of its own
(a chamber's member company, 家, or person, 人), listed too.
"""

from __future__ import annotations

import re

from services.county.exports.figure_labels import FUNDS, PIONEER, column
from services.county.exports.layout import Kind
from services.county.queries.figures_spec import PIONEER as SPECS
from shared.catalog.base import FundSource
from shared.catalog.mechanism import TrainingMode

BRACKETED = re.compile(r"（([^（）]+)）$")


def unit_of(figure: str, path: str) -> str:
    """The unit of one number (`pioneer`, `legal.consulted.people` → 人次)."""
    col = column(figure, path)
    if col.kind is Kind.RATE:
        return "%"
    if col.kind is Kind.YUAN:
        return "元"
    found = BRACKETED.search(col.header)
    return found.group(1) if found else "个"


def _paths() -> dict[str, list[str]]:
    pioneer = [f"{type_}.{metric}" for type_, words in PIONEER.items() for metric in words.metrics]
    for type_, words in PIONEER.items():
        by = SPECS[type_].by
        pioneer += [f"{type_}.{by}.{category}.events" for category in words.units]
    funds = [f"received.{s.value}" for s in FundSource] + list(FUNDS)
    education = [f"{kind}.{n}" for kind in ("training", "orglife") for n in ("sessions", "attendances")]
    education += [
        f"training.by_mode.{m.value}.{n}" for m in TrainingMode for n in ("sessions", "attendances")
    ]
    education += ["coverage.rate", "study_accounts.rate"]
    return {"funds": funds, "pioneer": pioneer, "education": education}


def units() -> dict[str, dict[str, str]]:
    """figure → path → unit, for every headline number (and category with a unit of its own)."""
    return {figure: {p: unit_of(figure, p) for p in paths} for figure, paths in _paths().items()}
