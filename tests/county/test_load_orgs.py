"""`tongxin county load-orgs` (issue 16): a new county loads its organisation tree from Excel; a
file with any error writes nothing and names every error; a re-run changes nothing; the roster
then shows the Chinese names where it showed "(未登记)", and the events' own names still win."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from services.county.audit.replay import Bounds, build
from services.county.cli import app as county_cli
from services.county.ingest.processor import Ingestor
from services.county.queries.common import now_text
from services.county.queries.members import list_orgs
from services.county.queries.roster import roster_summary
from services.county.reference import documents
from services.county.reference.org_sheet import HEADERS
from services.county.reference.tables import org_register
from tests.county.helpers import enrol_nodes, feed, open_node, record
from tests.reference_scenario import TREE, tree_xlsx
from tests.samples import registration, xlsx


def rows_in(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(org_register)).scalar_one())


def test_load_orgs_writes_nothing_on_any_error_and_is_idempotent(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    template = tmp_path / "模板.xlsx"
    made = runner.invoke(county_cli, ["load-orgs", "--template", str(template)])
    assert made.exit_code == 0, made.output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([*TREE, ["村党支部", "v-x", "", "nowhere", "", "", ""]], list(HEADERS)))
    refused = runner.invoke(county_cli, ["load-orgs", str(bad), "--db", county_db_url])
    assert refused.exit_code == 1
    assert "2 处错误，未导入任何一行" in refused.output
    assert "名称" in refused.output and "没有代码为 nowhere 的组织" in refused.output
    assert rows_in(county_engine) == 0

    good = tmp_path / "组织树.xlsx"
    good.write_bytes(tree_xlsx())
    loaded = runner.invoke(county_cli, ["load-orgs", str(good), "--db", county_db_url])
    assert loaded.exit_code == 0, loaded.output
    assert f"loaded {len(TREE)} organisation(s)" in loaded.output and f"{len(TREE)} added" in loaded.output
    again = runner.invoke(county_cli, ["load-orgs", str(good), "--db", county_db_url])
    assert "0 added, 0 changed, 7 unchanged" in again.output, again.output
    renamed = [list(r) for r in TREE]
    renamed[2][2] = "上塘村党总支"
    good.write_bytes(xlsx(renamed, list(HEADERS)))
    changed = runner.invoke(county_cli, ["load-orgs", str(good), "--db", county_db_url])
    assert "0 added, 1 changed, 6 unchanged" in changed.output, changed.output
    assert rows_in(county_engine) == len(TREE)


def test_a_new_county_shows_the_loaded_names_instead_of_unregistered(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    dongguan = open_node(tmp_path, "dongguan")
    try:
        member = registration(1)
        member["payload"]["home_branch"] = "v-shangtang"
        envelopes = record(dongguan, [member])
    finally:
        dongguan.close()
    enrol_nodes(county_engine, dongguan)
    feed(Ingestor(county_engine, "jx"), envelopes)
    with county_engine.connect() as conn:
        before = roster_summary(conn)
    assert [(c["id"], c["name"]) for c in before["children"]] == [(None, "(未登记)")]

    (tmp_path / "tree.xlsx").write_bytes(tree_xlsx())
    loaded = CliRunner().invoke(county_cli, ["load-orgs", str(tmp_path / "tree.xlsx"), "--db", county_db_url])
    assert loaded.exit_code == 0, loaded.output
    with county_engine.connect() as conn:
        top = roster_summary(conn)
        village = roster_summary(conn, township="t-shangtang")
        outstations = list_orgs(conn, "outstation")["items"]
    assert (top["name"], [(c["id"], c["name"], c["total"]) for c in top["children"]]) == (
        "中共江县委员会",
        [("t-shangtang", "上塘镇党委", 1)],
    )
    assert [(c["id"], c["name"], c["total"]) for c in village["children"]] == [
        ("v-shangtang", "上塘村党支部", 1),
        ("v-xiling", "西岭村党支部", 0),
    ]
    assert [(o["org_id"], o["name"], o["township"]) for o in outstations] == [
        ("dongguan", "驻东莞服务站党支部", None),
        ("huadu", "驻花都皮具产业链党支部", None),
    ]
    scratch = build(county_engine, Bounds(known_at=now_text()))  # as the county knew it at a moment
    try:
        with scratch.engine.connect() as conn:
            known = roster_summary(conn, township="t-shangtang")
    finally:
        scratch.close()
    assert [(c["id"], c["name"]) for c in known["children"]] == [
        ("v-shangtang", "上塘村党支部"),
        ("v-xiling", "西岭村党支部"),
    ]
    with county_engine.connect() as conn:  # what the county hands its nodes, on this database
        tree, mine = documents.build(conn, "jx", None)
    assert tree.key == "jx.orgs" and len(tree.content["orgs"]) == len(TREE)
    dongguan_row = next(o for o in tree.content["orgs"] if o["org_id"] == "dongguan")
    assert dongguan_row == {
        "org_id": "dongguan",
        "kind": "outstation",
        "name": "驻东莞服务站党支部",
        "parent_id": "jx-county",
        "node_id": "dongguan",
        "host_location": "广东东莞",
    }
    assert (mine.key, mine.content["members"]) == ("jx.members.dongguan", [])  # it registered them itself
