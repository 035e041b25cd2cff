"""What /api/v1/figures returns, built from the tables that shape the figures: each pioneer type's
names for its columns (`queries/figures_spec.PIONEER`), the five fund sources, the training modes
and organisational-life kinds. A type or category added there is documented here with it."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import Field

from services.county.api.models.base import Model, build, by_name, fields_of, many, optional
from services.county.queries.figures_spec import PIONEER, Spec
from shared.catalog.base import FundSource
from shared.catalog.mechanism import OrglifeKind, TrainingMode


class Filters(Model):
    """The filters applied: as given, `known_at` as canonical UTC text."""

    from_: str | None = Field(alias="from")
    to: str | None
    org: str | None
    mode: str | None
    township: str | None
    group_by: str | None
    known_at: str | None
    as_of: str | None


def _title(type_: str) -> str:
    return "".join(part.capitalize() for part in type_.replace(".", "_").split("_"))


def _each(name: str, keys: type[enum.StrEnum], value: Any, doc: str) -> type[Model]:
    """An object with one key per value of `keys`, every one present."""
    return build(name, doc, {k.value: value for k in keys})


def _values(spec: Spec) -> dict[str, Any]:
    return {"events": int, **{n: int for n in (spec.amount, spec.people) if n}}


def _pioneer_section(type_: str, spec: Spec) -> type[Model]:
    title = _title(type_)
    values = build(f"{title}Values", f"`{type_}`: events and its named sums.", _values(spec))
    fields = _values(spec)
    if spec.by and spec.categories is None:
        fields[spec.by] = by_name(values)
    elif spec.by and spec.categories is not None:
        doc = f"`{type_}` per {spec.by.removeprefix('by_')}, every one listed."
        fields[spec.by] = _each(f"{title}By", spec.categories, values, doc)
    return build(title, f"`{type_}`: totals and, per category, the same.", fields)


Pioneer = build(
    "Pioneer",
    "One section per pioneer or chamber event type.",
    {type_: _pioneer_section(type_, spec) for type_, spec in PIONEER.items()},
)

Received = _each("Received", FundSource, int, "Fen received from each of the five sources (五个一点).")
Funds = build(
    "Funds",
    "Received by source, spent, the balance (fen); `received_events` and `spendings` count the "
    "`fund.received` and `fund.spent` events.",
    {
        "received": Received,
        "received_total": int,
        "spent": int,
        "balance": int,
        "received_events": int,
        "spendings": int,
    },
)

_SESSIONS = {"sessions": int, "attendances": int}
Sessions = build("Sessions", "Sessions held, and attendances (people).", _SESSIONS)
Coverage = build(
    "Coverage",
    "Members on the roster (out or contact lost) who attended training in `year`, over them.",
    {"year": int, "roster": int, "trained": int, "rate": float | None},
)
StudyAccounts = build(
    "StudyAccounts",
    "How many of those members have a study account open.",
    {"roster": int, "opened": int, "rate": float | None},
)
Education = build(
    "Education",
    "Training by mode, organisational life by kind; coverage and study accounts (null in month groups).",
    {
        "training": build(
            "Training",
            "Training sessions and attendances, by mode.",
            {**_SESSIONS, "by_mode": _each("ByMode", TrainingMode, Sessions, "Every training mode.")},
        ),
        "orglife": build(
            "Orglife",
            "Organisational life sessions and attendances, by kind.",
            {**_SESSIONS, "by_kind": _each("ByKind", OrglifeKind, Sessions, "Every kind of orglife.")},
        ),
        "coverage": optional(Coverage),
        "study_accounts": optional(StudyAccounts),
    },
)


def _figure(name: str, section: type[Model], doc: str) -> type[Model]:
    """`filters`, `total` and `groups` (each a group's `key`, `name` and the same figures)."""
    group = build(
        f"{name}Group",
        "A group of `group_by` (`key` null: the group whose key is absent) and its figures.",
        {"key": str | None, "name": str, **fields_of(section)},
    )
    return build(f"{name}Figures", doc, {"filters": Filters, "total": section, "groups": many(group)})


FundsFigures = _figure("Funds", Funds, "Funds in total and per group.")
PioneerFigures = _figure("Pioneer", Pioneer, "Pioneer work and chambers in total and per group.")
EducationFigures = _figure("Education", Education, "Education in total and per group.")


class FigureUnits(Model):
    """Each figure's numbers (by dotted path) and the unit the county report and the exports give
    them: 人, 人次, 次, 户, 家, 条, 起, 个, 件, 笔; 元 for money; % for a rate."""

    funds: dict[str, str]
    pioneer: dict[str, str]
    education: dict[str, str]
