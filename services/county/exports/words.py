"""The Chinese words of the exports: statuses, outstation modes and fund sources — the dashboard's
(`web/static/i18n.js`) and the county report's. A code without a word is shown as it is."""

from __future__ import annotations

STATUS = {"out": "外出", "returned": "返乡", "contact_lost": "失联", "transferred_out": "转出"}
MODE = {
    "service_station": "服务站",
    "industry_chain": "产业链",
    "building_materials": "建材",
    "lychee": "荔枝",
    "chamber": "商会",
}
FUND_SOURCE = {
    "fiscal": "财政拨",
    "dues_rebate": "党费返",
    "member_donation": "党员捐",
    "org_raised": "组织筹",
    "host_subsidy": "当地补",
}
YES, NO = "已开通", "未开通"


def word(table: dict[str, str], code: str | None) -> str | None:
    """The word for a code, else the code itself (None stays None)."""
    return None if code is None else table.get(code, code)


ALERT_KIND = {
    "no_orglife_90d": "90天无组织生活",
    "untrained_this_year": "本年度未参训",
    "contact_lost": "失联",
    "recruitment_awaiting_second_review": "发展党员待二次审核",
    "no_outstation": "未纳入驻外党组织",
}
REVIEW_SIDE = {"outstation": "驻外党组织", "home": "流出地党组织"}
