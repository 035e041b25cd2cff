"""The demo county's organisation tree as its office keeps it in Excel, loaded the way a county
loads its own (`tongxin county load-orgs`): so the outstation pages offer its villages, outstations
and host organisations by their Chinese names from the start."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import Engine

from services.county.reference.org_sheet import HEADERS, KIND_NAMES, MODE_NAMES, SHEET
from services.county.reference.register import Loaded, load_file
from shared.catalog.base import OrgKind, OutstationMode
from shared.private_files import write_private
from tongxin.demo.county import COUNTY_NAME, COUNTY_ORG, OUTSTATIONS, TOWNSHIPS, villages


def rows() -> list[tuple[str, ...]]:
    """Every organisation of the demo county as a row of the template (类型, 代码, 名称, 上级代码, 节点,
    所在地, 模式)."""
    out: list[tuple[str, ...]] = [
        (KIND_NAMES[OrgKind.COUNTY_COMMITTEE], COUNTY_ORG, f"中共{COUNTY_NAME}委员会")
    ]
    for tw, name in TOWNSHIPS:
        out.append((KIND_NAMES[OrgKind.TOWNSHIP_COMMITTEE], tw, f"{name}党委", COUNTY_ORG))
        out.append((KIND_NAMES[OrgKind.TOWNSHIP_CHAMBER], f"{tw}-chamber", f"{name}商会", tw))
    for v, name, tw in villages():
        out.append((KIND_NAMES[OrgKind.VILLAGE_BRANCH], v, f"{name}党支部", tw))
    for o in OUTSTATIONS:
        mode = MODE_NAMES[OutstationMode(o.mode)]
        out.append(
            (KIND_NAMES[OrgKind.OUTSTATION], o.org_id, o.name, COUNTY_ORG, o.org_id, o.host_location, mode)
        )
        out.append((KIND_NAMES[OrgKind.HOST_ORG], o.host_org, o.host_org_name, o.org_id, "", o.host_location))
    return out


def workbook() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(HEADERS))
    for row in rows():
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def load_tree(engine: Engine, data_dir: Path) -> Loaded:
    """Write the workbook beside the demo's data (0600; to open in Excel) and load it; raises if
    refused."""
    data = workbook()
    write_private(data_dir / "组织树.xlsx", data)  # the demo's data dir holds nothing others may read
    parsed, loaded = load_file(engine, data)
    if loaded is None:
        raise RuntimeError("the demo's organisation tree was refused: " + "; ".join(map(str, parsed.errors)))
    return loaded
