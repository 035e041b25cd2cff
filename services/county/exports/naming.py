"""What an export is about, in words: its scope (the county, a township, a village, an
organisation), the title row above the header, and the file name (`花名册_城关镇_2026-12-03.xlsx`,
with an ASCII name `roster_t1_2026-12-03.xlsx` for clients that cannot take the Chinese one)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from services.county.exports.values import china_time
from services.county.queries.asof import AsOf
from services.county.queries.common import UNREGISTERED, UNREGISTERED_NAME, OrgTree

COUNTY_WIDE = "全县"
NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_PART = 40


@dataclass(frozen=True)
class Scope:
    """Where an export looks: its names (county, township, village or organisation) and ids."""

    names: tuple[str, ...]
    ids: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.names)


def _named(tree: OrgTree, org_id: str, unregistered: str) -> tuple[str, str]:
    if org_id == UNREGISTERED:
        return unregistered, "unregistered"
    return tree.name(org_id, org_id), org_id


def scope_of(
    tree: OrgTree, township: str | None = None, village: str | None = None, org: str | None = None
) -> Scope:
    """The narrowest level asked for, its township first for a village; the county's name if none."""
    parts: list[tuple[str, str]] = []
    if township is not None:
        parts.append(_named(tree, township, "未登记乡镇"))
    if village is not None:
        above = tree.township_of(village) if village != UNREGISTERED else None
        if township is None and above is not None:
            parts.append(_named(tree, above, "未登记乡镇"))
        parts.append(_named(tree, village, "未登记村"))
    if org is not None:
        parts.append(_named(tree, org, UNREGISTERED_NAME))
    if not parts:
        county_id, county_name = tree.county()
        parts.append((county_name if county_id is not None else COUNTY_WIDE, "county"))
    return Scope(tuple(n for n, _ in parts), tuple(i for _, i in parts))


def as_of_text(as_of: AsOf | None) -> str:
    if as_of is None:
        return "实时数据"
    if as_of.given == as_of.day.isoformat():
        return f"截至 {as_of.day.isoformat()}"
    moment = china_time(as_of.moment)
    return f"截至 {moment:%Y-%m-%d %H:%M}（北京时间）" if moment else f"截至 {as_of.given}"


def title(what: str, scope: Scope, as_of: AsOf | None, now: datetime, *more: str) -> str:
    """The title row: what, where, as of when, anything else that narrows it, and when it was made."""
    parts = [what, f"范围：{scope.text}", as_of_text(as_of), *more]
    return "　".join([*parts, f"导出时间：{now:%Y-%m-%d %H:%M}（北京时间）"])


def _part(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub("_", text).strip("_.")[:MAX_PART] or "_"


def file_names(what: str, ascii_what: str, scope: Scope, day: date, ext: str) -> tuple[str, str]:
    """(the Chinese file name, its ASCII fallback): kind, scope, date, joined by `_`."""
    chinese = "_".join([what, *(_part(n, NOT_IN_FILE_NAMES) for n in scope.names), day.isoformat()])
    ascii_ = "_".join([ascii_what, *(_part(i, NOT_ASCII_SAFE) for i in scope.ids), day.isoformat()])
    return f"{chinese}.{ext}", f"{ascii_}.{ext}"
