"""The Chinese header of every number of the figures, with its unit as the county report gives it.

A number is named by its dotted path in the figure's JSON (`received.fiscal`,
`donation.made.by_cause.flood_relief.amount_fen`, `training.by_mode.cloud.attendances`). Units are
the report's: 人 (people), 人次 (attendances, consultations), 户, 家 (enterprises), 条 (notices),
起 (disputes), 次 (events); money is 元 (the workbook's cells; the report's 万元 and 亿元 are 元 ÷
10⁴ and ÷ 10⁸).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.county.exports.layout import Column, Kind
from services.county.exports.words import FUND_SOURCE, word

MONEY = ("amount_fen", "recovered_fen")
"""The metrics of a pioneer section that are money (fen)."""


@dataclass(frozen=True)
class Words:
    """One pioneer section: its short name, and the header (with unit) of each of its metrics."""

    short: str
    metrics: dict[str, tuple[str, str]]
    """metric → (header, unit)."""
    categories: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    """A category's own unit for `events` (a chamber's member is a company, 家, or a person, 人)."""


PIONEER = {
    "returnee.invested": Words(
        "返乡创业",
        {
            "events": ("返乡创业企业", "家"),
            "amount_fen": ("返乡创业投资", "元"),
            "jobs": ("返乡创业带动就业", "人"),
        },
    ),
    "investment.lead": Words(
        "四个一",
        {"events": ("招商引资“四个一”", "件"), "households": ("招商引资带富群众", "户")},
        {
            "information": "提供信息",
            "project": "引进项目",
            "industry": "带动产业",
            "households_enriched": "带富群众",
        },
    ),
    "jobs.posted": Words("劳务需求", {"events": ("发布劳务需求", "次"), "notices": ("劳务需求信息", "条")}),
    "jobs.placed": Words("就业安置", {"events": ("就业安置", "次"), "people": ("帮助就业", "人")}),
    "donation.made": Words(
        "捐款捐物",
        {"events": ("捐款捐物", "次"), "amount_fen": ("捐款捐物", "元")},
        {
            "flood_relief": "抗洪救灾",
            "epidemic": "疫情防控",
            "poverty": "扶贫帮困",
            "rural_revitalisation": "乡村振兴",
        },
    ),
    "dispute.mediated": Words(
        "调解纠纷",
        {"events": ("调解纠纷", "起"), "recovered_fen": ("挽回经济损失", "元")},
        {
            "resolved": "调解成功",
            "partly_resolved": "部分调解",
            "unresolved": "未调解成功",
            "referred": "移交处理",
        },
    ),
    "legal.consulted": Words("法律咨询", {"events": ("法律咨询接待", "次"), "people": ("法律咨询", "人次")}),
    "service.provided": Words(
        "服务群众",
        {"events": ("服务群众", "次"), "people": ("服务群众", "人次")},
        {
            "party_building": "党建",
            "family_planning": "计生",
            "commerce": "商务",
            "legal": "法律咨询",
            "labour": "劳动保障",
        },
    ),
    "enterprise.founded": Words(
        "老乡创办企业", {"events": ("老乡创办企业", "家"), "households": ("带富乡亲", "人")}
    ),
    "chamber.member_joined": Words(
        "商会会员",
        {"events": ("商会新增会员", "个")},
        {"company": "会员企业", "person": "个人会员"},
        {"company": "家", "person": "人"},
    ),
    "chamber.funds_raised": Words(
        "商会筹资", {"events": ("商会筹资", "次"), "amount_fen": ("商会筹集资金", "元")}
    ),
    "chamber.project_launched": Words(
        "商会产业项目", {"events": ("商会产业项目", "个"), "amount_fen": ("商会产业项目投资", "元")}
    ),
}
FUNDS = {
    "received_total": "经费收入合计（元）",
    "spent": "支出（元）",
    "balance": "结余（元）",
    "received_events": "收入（笔）",
    "spendings": "支出（笔）",
}
SESSIONS = {"training": "培训", "orglife": "组织生活"}
SESSION_KINDS = {
    "on_site": "送学上党课",
    "cloud": "云党课",
    "special": "专题教育培训",
    "branch_meeting": "支部党员大会",
    "committee_meeting": "支委会",
    "group_meeting": "党小组会",
    "party_lesson": "党课",
    "theme_day": "主题党日",
}
SKIPPED = ("coverage.year", "study_accounts.roster")
"""Said elsewhere: the coverage year is in the headers, the roster counted once (coverage.roster)."""


def _header(name: str, unit: str) -> Column:
    return Column(f"{name}（{unit}）", Kind.YUAN if unit == "元" else Kind.COUNT)


def _funds(path: str) -> Column:
    if path.startswith("received."):
        source = path.removeprefix("received.")
        return Column(f"{word(FUND_SOURCE, source)}（元）", Kind.YUAN)
    header = FUNDS.get(path, path)
    return Column(header, Kind.COUNT if header.endswith("（笔）") else Kind.YUAN)


def _pioneer(path: str) -> Column:
    type_ = next((t for t in PIONEER if path.startswith(t + ".")), None)
    if type_ is None:
        return Column(path, Kind.COUNT)
    words = PIONEER[type_]
    parts = path.removeprefix(type_ + ".").split(".")
    metric = parts[-1]
    name, unit = words.metrics.get(metric, (metric, "元" if metric in MONEY else "个"))
    if len(parts) == 3:  # by_…, category, metric
        category = parts[1]
        unit = words.units.get(category, unit) if metric == "events" else unit
        return _header(f"{words.short}·{words.categories.get(category, category)}", unit)
    return _header(name, unit)


def _education(path: str, year: int | None) -> Column:
    parts = path.split(".")
    when = f"{year}年" if year else ""
    if parts[0] == "coverage":
        return {
            "roster": Column("在册党员（人）", Kind.COUNT),
            "trained": Column(f"{when}参训党员（人）", Kind.COUNT),
            "rate": Column(f"{when}培训覆盖率", Kind.RATE),
        }.get(parts[-1], Column(path, Kind.COUNT))
    if parts[0] == "study_accounts":
        return {
            "opened": Column("已开通学习账号（人）", Kind.COUNT),
            "rate": Column("学习账号开通率", Kind.RATE),
        }.get(parts[-1], Column(path, Kind.COUNT))
    unit = "人次" if parts[-1] == "attendances" else "次"
    name = SESSIONS.get(parts[0], parts[0])
    if len(parts) == 4:  # training.by_mode.cloud.sessions
        name = SESSION_KINDS.get(parts[2], parts[2])
    return _header(name, unit)


def column(figure: str, path: str, year: int | None = None) -> Column:
    """The header and kind of one number of a figure (`funds`, `pioneer`, `education`)."""
    if figure == "funds":
        return _funds(path)
    if figure == "pioneer":
        return _pioneer(path)
    return _education(path, year)
