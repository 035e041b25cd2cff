"""The alerts workbook (双重管理预警) and CSV: every alert in scope, and the counts per kind.

Sheet 预警名单: one alert a row, by kind then name (the order of `GET /api/v1/alerts`) — the kind
in words, the member's name (no ID number, no phone: alerts never carry them), status in words,
township, village and outstation by name, the dates that explain the alert as China Standard
Time date cells, the dual review's organisation and sides in words. Sheet 预警统计: the count of
each kind and their 合计. The CSV is the 预警名单 sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from services.county.exports.layout import Column, Kind, Sheet, Value
from services.county.exports.naming import Scope, file_names, scope_of, title
from services.county.exports.values import china_now, china_time
from services.county.exports.words import ALERT_KIND, REVIEW_SIDE, STATUS, word
from services.county.personal.view import MASKED, PersonalView
from services.county.queries import alerts as q
from services.county.queries.asof import AsOf
from services.county.queries.common import OrgTree, load_tree

ALERT_COLUMNS = (
    Column("预警类型"),
    Column("姓名"),
    Column("状态"),
    Column("乡镇"),
    Column("村（社区）党支部"),
    Column("驻外党组织"),
    Column("最近组织生活", Kind.TIME),
    Column("最近培训", Kind.TIME),
    Column("失联起始", Kind.TIME),
    Column("流入地"),
    Column("审核组织"),
    Column("已审核方"),
    Column("待审核方"),
    Column("成员编号"),
)
EVERY = 10**9
"""More alerts than any county holds: the export is not paged."""


@dataclass(frozen=True)
class AlertsAsk:
    """What the alerts export was asked for, as `GET /api/v1/alerts` takes it (no paging)."""

    township: str | None = None
    village: str | None = None
    kind: q.AlertKind | None = None
    as_of: AsOf | None = None


def alert_cells(tree: OrgTree, item: dict[str, Any]) -> list[Value]:
    """One alert's row of the 预警名单 sheet."""
    d = item["detail"]
    outstation = item["outstation"]
    return [
        word(ALERT_KIND, item["kind"]),
        item["name"],
        word(STATUS, item["status"]),
        item["township_name"],
        item["village_name"],
        tree.name(outstation, outstation) if outstation else None,
        china_time(d.get("last_orglife_at")),
        china_time(d.get("last_trained_at")),
        china_time(d.get("since")),
        d.get("host_location"),
        d.get("org_name"),
        word(REVIEW_SIDE, d.get("approved_side")),
        word(REVIEW_SIDE, d.get("awaiting_side")),
        item["member_id"],
    ]


class AlertsBook:
    """The alerts export for one ask: its sheets, its CSV and its file names."""

    def __init__(
        self, conn: Connection, ask: AlertsAsk, view: PersonalView = MASKED, now: datetime | None = None
    ) -> None:
        self.ask = ask
        self.tree = load_tree(conn)
        self.now = now or china_now()
        self.scope: Scope = scope_of(self.tree, ask.township, ask.village)
        self.found = q.alerts(
            conn,
            kind=ask.kind,
            township=ask.township,
            village=ask.village,
            as_of=ask.as_of,
            limit=EVERY,
            view=view,
        )

    def _narrowed(self) -> list[str]:
        return [] if self.ask.kind is None else [f"预警类型：{word(ALERT_KIND, self.ask.kind.value)}"]

    def items(self) -> Sheet:
        rows = [alert_cells(self.tree, item) for item in self.found["items"]]
        narrowed = [*self._narrowed(), f"共 {len(rows)} 条"]
        return Sheet(
            "预警名单",
            title("双重管理预警", self.scope, self.ask.as_of, self.now, *narrowed),
            ALERT_COLUMNS,
            rows,
            keep_in_view=2,
        )

    def counts(self) -> Sheet:
        counts = self.found["counts"]
        return Sheet(
            "预警统计",
            title("双重管理预警统计", self.scope, self.ask.as_of, self.now),
            [Column("预警类型"), Column("条数", Kind.COUNT)],
            [[word(ALERT_KIND, k.value), counts[k.value]] for k in q.KINDS],
            ["", sum(counts.values())],
        )

    def names(self, ext: str) -> tuple[str, str]:
        day = self.ask.as_of.day if self.ask.as_of is not None else self.now.date()
        return file_names("双重管理预警", "alerts", self.scope, day, ext)
