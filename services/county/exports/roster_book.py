"""The roster workbook (花名册) and CSV: every member in scope, and the counts by status per level.

Sheet 花名册: one member a row, by name — the ID number and phone as the roster's personal view
gives them (masked; in full only through a recorded reveal), the status in words, organisations
by name (the code where the county does not know the organisation), times in China Standard
Time. Sheet 分级统计: the townships (or villages) of the level with their counts by status, and
their 合计, which is the level's total. The CSV is the 花名册 sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from services.county.exports.layout import Column, Kind, Sheet, Value
from services.county.exports.naming import Scope, file_names, scope_of, title
from services.county.exports.values import a_date, china_now, china_time
from services.county.exports.words import NO, STATUS, YES, word
from services.county.personal.view import MASKED, PersonalView
from services.county.queries import roster as q
from services.county.queries.asof import AsOf
from services.county.queries.common import OrgTree, load_tree
from shared.catalog.status import STATUSES

MEMBER_COLUMNS = (
    Column("姓名"),
    Column("身份证号"),
    Column("手机号"),
    Column("状态"),
    Column("状态起始", Kind.TIME),
    Column("乡镇"),
    Column("村（社区）党支部"),
    Column("驻外党组织"),
    Column("流入地"),
    Column("流入地党组织"),
    Column("职业"),
    Column("外出时间", Kind.DATE),
    Column("学习账号"),
    Column("登记节点"),
    Column("登记时间", Kind.TIME),
    Column("成员编号"),
)
CHILD = {"county": "乡镇", "township": "村（社区）党支部", "village": "村（社区）党支部"}


@dataclass(frozen=True)
class RosterAsk:
    """What the roster export was asked for: the level and the filters, as the roster API takes them."""

    township: str | None = None
    village: str | None = None
    as_of: AsOf | None = None
    outstation: str | None = None
    host_location: str | None = None
    status: str | None = None
    name: str | None = None
    """Members whose name contains it (the 花名册 sheet only: the counts are not narrowed by it)."""

    def params(self) -> dict[str, Any]:
        return {
            "township": self.township,
            "village": self.village,
            "as_of": self.as_of,
            "outstation": self.outstation,
            "host_location": self.host_location,
            "status": self.status,
        }


def member_cells(tree: OrgTree, item: dict[str, Any]) -> list[Value]:
    """One member's row of the 花名册 sheet."""

    def org(org_id: str | None) -> str | None:
        return tree.name(org_id, org_id) if org_id else None

    return [
        item["name"],
        item.get("id_number"),
        item.get("phone"),
        word(STATUS, item["status"]),
        china_time(item["status_since"]),
        item["township_name"],
        org(item["home_branch"]),
        org(item["outstation"]),
        item["host_location"],
        org(item["host_org"]),
        item["occupation"],
        a_date(item["flowed_out_on"]),
        YES if item["study_account"] else NO,
        org(item["registered_by"]),
        china_time(item["registered_at"]),
        item["member_id"],
    ]


def _narrowed(tree: OrgTree, ask: RosterAsk) -> list[str]:
    out = []
    if ask.status is not None:
        out.append(f"状态：{word(STATUS, str(ask.status))}")
    if ask.outstation is not None:
        out.append(f"驻外党组织：{tree.name(ask.outstation, ask.outstation)}")
    if ask.host_location is not None:
        out.append(f"流入地：{ask.host_location}")
    if ask.name is not None:
        out.append(f"姓名含：{ask.name}")
    return out


class RosterBook:
    """The roster export for one ask: its sheets, its CSV and its file names."""

    def __init__(
        self,
        conn: Connection,
        ask: RosterAsk,
        view: PersonalView = MASKED,
        reveal: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.conn, self.ask, self.reveal = conn, ask, reveal
        self.tree = load_tree(conn)
        self.now = now or china_now()
        self.scope: Scope = scope_of(self.tree, ask.township, ask.village)
        self.items = q.roster_items(conn, view=view, reveal=reveal, name=ask.name, **ask.params())

    def members(self) -> Sheet:
        what = "流动党员花名册（含完整身份信息）" if self.reveal else "流动党员花名册"
        narrowed = [*_narrowed(self.tree, self.ask), f"共 {len(self.items)} 人"]
        return Sheet(
            "花名册",
            title(what, self.scope, self.ask.as_of, self.now, *narrowed),
            MEMBER_COLUMNS,
            [member_cells(self.tree, item) for item in self.items],
        )

    def levels(self) -> Sheet:
        unnamed = replace(self.ask, name=None)  # counts are not narrowed by a name
        summary = q.roster_summary(self.conn, **self.ask.params())
        columns = [Column(CHILD[summary["level"]]), Column("人数", Kind.COUNT)]
        columns += [Column(word(STATUS, s) or s, Kind.COUNT) for s in STATUSES]
        below = summary["children"] or [summary]

        def counts(item: dict[str, Any]) -> list[Value]:
            return [item["total"], *(item["by_status"][s] for s in STATUSES)]

        return Sheet(
            "分级统计",
            title("流动党员分级统计", self.scope, self.ask.as_of, self.now, *_narrowed(self.tree, unnamed)),
            columns,
            [[item["name"], *counts(item)] for item in below],
            ["", *counts(summary)],
        )

    def names(self, ext: str) -> tuple[str, str]:
        day = self.ask.as_of.day if self.ask.as_of is not None else self.now.date()
        what, ascii_what = ("花名册_完整", "roster-revealed") if self.reveal else ("花名册", "roster")
        return file_names(what, ascii_what, self.scope, day, ext)
