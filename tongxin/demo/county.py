"""The county the report describes: its organisations, outstations and headline figures.

Names of people and villages are invented; the shape — 14 townships, each with a chamber of
commerce, 21 outstation organisations in five modes, the five fund sources — and every
headline figure are the report's.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTY_ID = "xiangyuan"
COUNTY_NAME = "湘源县"
COUNTY_ORG = "county"
OFFICE_NODE = "county-office"
"""The county organisation department (县委组织部) runs a node too: it records the org tree."""

TOWNSHIPS: list[tuple[str, str]] = [
    ("chengguan", "城关镇"),
    ("baishi", "白石镇"),
    ("qingshan", "青山乡"),
    ("shiqiao", "石桥镇"),
    ("huanglong", "黄龙镇"),
    ("taochuan", "桃川镇"),
    ("hekou", "河口乡"),
    ("longtian", "龙田镇"),
    ("xinxu", "新圩镇"),
    ("dalupu", "大路铺镇"),
    ("shuikou", "水口镇"),
    ("lingdong", "岭东乡"),
    ("zhushan", "竹山乡"),
    ("yunxi", "云溪镇"),
]
VILLAGE_NAMES: list[tuple[str, str]] = [
    ("shangtang", "上塘村"),
    ("dongping", "东坪村"),
    ("xiling", "西岭村"),
    ("nanan", "南岸村"),
    ("beichong", "北冲村"),
    ("xintian", "新田村"),
    ("shimen", "石门村"),
    ("fenglin", "枫林村"),
]
VILLAGES_PER_TOWNSHIP = 4


@dataclass(frozen=True)
class Outstation:
    org_id: str
    name: str
    mode: str
    host_location: str
    host_org: str
    host_org_name: str
    weight: int = 1
    """Share of the county's mobile members who work there."""


OUTSTATIONS: list[Outstation] = [
    Outstation(
        "dongguan",
        "驻东莞市流动人口综合服务站党支部",
        "service_station",
        "广东东莞",
        "dg-qiye",
        "东莞市企业联合党委",
        6,
    ),
    Outstation(
        "huadu",
        "驻广州花都流动党员党总支",
        "industry_chain",
        "广东广州花都",
        "hd-shiling",
        "花都区狮岭镇皮革皮具行业党委",
        6,
    ),
    Outstation(
        "zhuzhou",
        "驻湖南株洲建材流动党员党支部",
        "building_materials",
        "湖南株洲",
        "zz-jiancai",
        "株洲市建材行业党委",
        3,
    ),
    Outstation(
        "pingle",
        "驻广西平乐建材流动党员党支部",
        "building_materials",
        "广西平乐",
        "pl-jiancai",
        "平乐县非公企业党委",
        2,
    ),
    Outstation(
        "hainan",
        "驻海南荔枝产业流动党员党支部",
        "lychee",
        "海南",
        "hn-lizhi",
        "海南荔枝专业合作社联合党委",
        3,
    ),
    Outstation(
        "chambers", "县内乡镇商会流动党员联合党委", "chamber", "本县", "cc-gongshanglian", "县工商联党组", 2
    ),
    Outstation(
        "shenzhen",
        "驻深圳流动党员党支部",
        "service_station",
        "广东深圳",
        "sz-feigong",
        "深圳市非公经济组织党委",
        3,
    ),
    Outstation(
        "foshan", "驻佛山流动党员党支部", "industry_chain", "广东佛山", "fs-feigong", "佛山市非公企业党委", 2
    ),
    Outstation(
        "zhongshan",
        "驻中山流动党员党支部",
        "industry_chain",
        "广东中山",
        "zs-feigong",
        "中山市非公企业党委",
        2,
    ),
    Outstation(
        "huizhou",
        "驻惠州流动党员党支部",
        "service_station",
        "广东惠州",
        "hz-feigong",
        "惠州市非公企业党委",
        2,
    ),
    Outstation(
        "jiangmen",
        "驻江门流动党员党支部",
        "industry_chain",
        "广东江门",
        "jm-feigong",
        "江门市非公企业党委",
        1,
    ),
    Outstation(
        "xiamen", "驻厦门流动党员党支部", "service_station", "福建厦门", "xm-feigong", "厦门市非公企业党委", 1
    ),
    Outstation(
        "wenzhou", "驻温州流动党员党支部", "industry_chain", "浙江温州", "wz-feigong", "温州市非公企业党委", 1
    ),
    Outstation(
        "ningbo", "驻宁波流动党员党支部", "industry_chain", "浙江宁波", "nb-feigong", "宁波市非公企业党委", 1
    ),
    Outstation(
        "suzhou",
        "驻苏州流动党员党支部",
        "industry_chain",
        "江苏苏州",
        "su-feigong",
        "苏州工业园区非公企业党委",
        1,
    ),
    Outstation(
        "shanghai",
        "驻上海流动党员党支部",
        "service_station",
        "上海",
        "sh-feigong",
        "上海市非公经济组织党委",
        1,
    ),
    Outstation(
        "hangzhou",
        "驻杭州流动党员党支部",
        "service_station",
        "浙江杭州",
        "hg-feigong",
        "杭州市非公企业党委",
        1,
    ),
    Outstation(
        "changsha",
        "驻长沙建材流动党员党支部",
        "building_materials",
        "湖南长沙",
        "cs-jiancai",
        "长沙市建材行业党委",
        2,
    ),
    Outstation(
        "wuhan",
        "驻武汉流动党员党支部",
        "building_materials",
        "湖北武汉",
        "wh-feigong",
        "武汉市非公企业党委",
        1,
    ),
    Outstation(
        "chengdu",
        "驻成都流动党员党支部",
        "service_station",
        "四川成都",
        "cd-feigong",
        "成都市非公企业党委",
        1,
    ),
    Outstation(
        "beijing",
        "驻北京流动党员党支部",
        "service_station",
        "北京",
        "bj-feigong",
        "北京市非公经济组织党委",
        1,
    ),
]

NODES: list[str] = [OFFICE_NODE] + [o.org_id for o in OUTSTATIONS]

SPEAKS_FOR: dict[str, list[str]] = {
    OFFICE_NODE: [COUNTY_ORG],
    "chambers": ["chambers", *(f"{tw}-chamber" for tw, _ in TOWNSHIPS)],
}
"""Whom a node is enrolled to speak for where not only the organisation of its own id
(docs/authority.md): the county office for the county committee (and, as the office, the tree);
the in-county chamber outstation (商会模式) for the township chambers whose work it records."""

YUAN = 100
"""Fen per yuan."""

FIRST_YEAR = 2019
"""The history starts here ("近年来"): the yearly funds are given every year since."""


@dataclass(frozen=True)
class Headline:
    """One figure of the report and where the county API shows it."""

    label: str
    value: int


HEADLINES: dict[str, Headline] = {
    "outstations": Headline("流动党员党组织", 21),
    "activity_venues": Headline("活动阵地", 21),
    "teaching_sites": Headline("现场教学示范点", 7),
    "chambers": Headline("乡镇商会", 14),
    "chamber_companies": Headline("会员企业（家）", 446),
    "chamber_persons": Headline("会员（人）", 559),
    "chamber_funds_fen": Headline("商会筹集资金（分）", 50_000_000 * YUAN),
    "chamber_projects": Headline("产业项目", 16),
    "huadu_enterprises": Headline("花都老乡创办企业", 1_200),
    "huadu_enriched": Headline("带富乡亲（人）", 46_000),
    "park_enterprises": Headline("引进皮具箱包企业", 72),
    "park_jobs": Headline("解决就业（人）", 5_000),
    "returnee_enterprises": Headline("皮具箱包玩具企业", 140),
    "returnee_investment_fen": Headline("总投资（分）", 13_750_000_000 * YUAN),
    "job_notices": Headline("劳务需求信息（条）", 20_000),
    "job_placements": Headline("帮助就业（人）", 5_000),
    "donations_fen": Headline("捐款捐物（分）", 10_000_000 * YUAN),
    "legal_consultations": Headline("法律咨询（人次）", 70_000),
    "disputes": Headline("调解纠纷（起）", 800),
    "recovered_fen": Headline("挽回经济损失（分）", 40_000_000 * YUAN),
    "fiscal_per_year_fen": Headline("县财政每年安排（分）", 500_000 * YUAN),
    "dues_per_year_fen": Headline("党费每年补助（分）", 200_000 * YUAN),
}

PARK = "湘江源皮具箱包产业园"
PARK_INDUSTRY = "皮具箱包"


def villages() -> list[tuple[str, str, str]]:
    """(org_id, name, township org_id) of every village branch."""
    out = []
    for i, (tw, tw_name) in enumerate(TOWNSHIPS):
        for j in range(VILLAGES_PER_TOWNSHIP):
            slug, name = VILLAGE_NAMES[(i + j) % len(VILLAGE_NAMES)]
            out.append((f"{tw}-{slug}", f"{tw_name[:-1]}{name}", tw))
    return out
