"""Funds (五个一点), pioneer work (流动先锋) and the township chambers, summing exactly to the
report's headline figures."""

from __future__ import annotations

from datetime import date, timedelta

from tongxin.demo.county import (
    FIRST_YEAR,
    HEADLINES,
    OUTSTATIONS,
    PARK,
    PARK_INDUSTRY,
    TOWNSHIPS,
    YUAN,
)
from tongxin.demo.timeline import Timeline, at, months

H = {key: h.value for key, h in HEADLINES.items()}
CAUSES = ["flood_relief", "epidemic", "poverty", "rural_revitalisation"]
CATEGORIES = ["wages", "injury", "contract", "family", "other"]
LINES = ["party_building", "family_planning", "commerce", "legal", "labour"]
ORG_IDS = [o.org_id for o in OUTSTATIONS]
HEAVY = ["dongguan", "huadu", "shenzhen", "zhuzhou", "hainan"]


def funds(tl: Timeline) -> None:
    """Every year: the county's fiscal funds and dues rebate shared among the outstations, plus
    members' donations, funds the organisations raise and host-location subsidies; spending."""
    rng = tl.rng
    for year in range(FIRST_YEAR, tl.end.year + 1):
        day = date(year, 3, 15)
        if day > tl.end:
            break
        fiscal = tl.split(H["fiscal_per_year_fen"], len(ORG_IDS))
        dues = tl.split(H["dues_per_year_fen"], len(ORG_IDS))
        for i, org in enumerate(ORG_IDS):
            tl.add(
                org,
                "fund.received",
                at(day, 10 * 60),
                {"org_id": org, "source": "fiscal", "amount_fen": fiscal[i], "note": f"{year}年县财政拨付"},
            )
            tl.add(
                org,
                "fund.received",
                at(day, 11 * 60),
                {
                    "org_id": org,
                    "source": "dues_rebate",
                    "amount_fen": dues[i],
                    "note": f"{year}年县管党费补助",
                },
            )
            for source, most in (
                ("member_donation", 8_000),
                ("org_raised", 15_000),
                ("host_subsidy", 30_000),
            ):
                tl.add(
                    org,
                    "fund.received",
                    tl.moment(day, date(year, 12, 20)),
                    {"org_id": org, "source": source, "amount_fen": rng.randint(1_000, most) * YUAN},
                )
            for purpose in ("阵地租金", "送学上党课", "困难党员慰问"):
                tl.add(
                    org,
                    "fund.spent",
                    tl.moment(day, date(year, 12, 28)),
                    {"org_id": org, "amount_fen": rng.randint(2_000, 20_000) * YUAN, "purpose": purpose},
                )


def pioneer(tl: Timeline) -> None:
    _enterprises_and_investment(tl)
    _jobs_donations_mediation(tl)
    _services_and_leads(tl)


def _enterprises_and_investment(tl: Timeline) -> None:
    rng = tl.rng
    n = H["huadu_enterprises"]
    for i, households in enumerate(tl.split(H["huadu_enriched"], n)):
        tl.add(
            "huadu",
            "enterprise.founded",
            tl.moment(),
            {
                "org_id": "huadu",
                "enterprise": f"花都皮具企业{i + 1:04d}",
                "industry": rng.choice(["皮具", "箱包", "五金配件"]),
                "households_enriched": households,
            },
        )
    total, park = H["returnee_enterprises"], H["park_enterprises"]
    amounts = tl.split(H["returnee_investment_fen"] // YUAN, total, minimum=1_000_000)
    jobs = tl.split(H["park_jobs"], park)
    for i in range(total):
        in_park = i < park
        payload = {
            "org_id": "huadu" if in_park else rng.choice(HEAVY),
            "enterprise": f"返乡企业{i + 1:03d}",
            "industry": PARK_INDUSTRY if in_park else rng.choice(["玩具", "箱包辅料"]),
            "amount_fen": amounts[i] * YUAN,
            "jobs": jobs[i] if in_park else 0,
        }
        if in_park:
            payload["park"] = PARK
        tl.add(str(payload["org_id"]), "returnee.invested", tl.moment(), payload)


def _jobs_donations_mediation(tl: Timeline) -> None:
    rng = tl.rng
    for notices in tl.split(H["job_notices"], 400):
        org = rng.choice(ORG_IDS)
        tl.add(org, "jobs.posted", tl.moment(), {"org_id": org, "notices": notices, "positions": notices * 3})
    for people in tl.split(H["job_placements"], 250):
        org = rng.choice(ORG_IDS)
        tl.add(org, "jobs.placed", tl.moment(), {"org_id": org, "people": people})
    for i, amount in enumerate(tl.split(H["donations_fen"] // YUAN, 120, minimum=1_000)):
        org = rng.choice(ORG_IDS)
        cash = amount if i % 3 else amount // 2
        payload = {"org_id": org, "cause": CAUSES[i % len(CAUSES)], "cash_fen": cash * YUAN}
        if cash < amount:
            payload |= {"in_kind_fen": (amount - cash) * YUAN, "in_kind": "口罩、大米等物资"}
        tl.add(org, "donation.made", tl.moment(), payload)
    for people in tl.split(H["legal_consultations"], 600):
        org = rng.choice(HEAVY + ORG_IDS)
        tl.add(
            org,
            "legal.consulted",
            tl.moment(),
            {"org_id": org, "people": people, "topic": "劳动合同与工伤维权"},
        )
    disputes = H["disputes"]
    resolved = disputes * 3 // 4
    recovered = tl.split(H["recovered_fen"] // YUAN, resolved, minimum=100)
    for i in range(disputes):
        org = rng.choice(HEAVY + ORG_IDS)
        outcome = "resolved" if i < resolved else rng.choice(["partly_resolved", "unresolved", "referred"])
        tl.add(
            org,
            "dispute.mediated",
            tl.moment(),
            {
                "org_id": org,
                "category": rng.choice(CATEGORIES),
                "outcome": outcome,
                "recovered_fen": recovered[i] * YUAN if i < resolved else 0,
            },
        )


def _services_and_leads(tl: Timeline) -> None:
    rng = tl.rng
    for month in months(tl.end - timedelta(days=730), tl.end):
        for line in LINES:
            tl.add(
                "dongguan",
                "service.provided",
                at(month, 15 * 60),
                {"org_id": "dongguan", "line": line, "people": rng.randint(5, 60)},
            )
    for i in range(84):
        org = rng.choice(ORG_IDS)
        kind = ["information", "project", "industry", "households_enriched"][i % 4]
        tl.add(
            org,
            "investment.lead",
            tl.moment(),
            {
                "org_id": org,
                "kind": kind,
                "title": f"四个一活动{i + 1}",
                "households": rng.randint(5, 80) if kind == "households_enriched" else 0,
            },
        )


def chambers(tl: Timeline) -> None:
    """The township chambers: members, funds raised and projects, recorded by the in-county
    outstation (乡镇商会模式)."""
    rng = tl.rng
    chamber_ids = [f"{tw}-chamber" for tw, _ in TOWNSHIPS]
    start = tl.start + timedelta(days=90)
    for kind, key in (("company", "chamber_companies"), ("person", "chamber_persons")):
        for i in range(H[key]):
            org = chamber_ids[i % len(chamber_ids)]
            name = f"会员企业{i + 1:03d}" if kind == "company" else f"会员{i + 1:03d}"
            tl.add(
                "chambers",
                "chamber.member_joined",
                tl.moment(start),
                {"org_id": org, "member_kind": kind, "name": name},
            )
    for i, amount in enumerate(tl.split(H["chamber_funds_fen"] // YUAN, 42, minimum=10_000)):
        tl.add(
            "chambers",
            "chamber.funds_raised",
            tl.moment(start),
            {"org_id": chamber_ids[i % len(chamber_ids)], "amount_fen": amount * YUAN},
        )
    for i in range(H["chamber_projects"]):
        tl.add(
            "chambers",
            "chamber.project_launched",
            tl.moment(start),
            {
                "org_id": chamber_ids[i % len(chamber_ids)],
                "project": f"乡村振兴产业项目{i + 1}",
                "industry": rng.choice(["种养殖", "农产品加工", "乡村旅游"]),
                "amount_fen": rng.randint(50, 500) * 10_000 * YUAN,
            },
        )
