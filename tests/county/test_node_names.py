"""A node is shown by the name of its organisation: in node health and in a member card's history."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, insert

from services.county.db.engine import make_engine, migrate
from services.county.projections import orgs
from services.county.queries.common import load_tree
from services.county.queries.node_health import node_health
from services.county.queries.node_names import node_name, node_names
from services.county.registry import enrol
from shared.signing import Signer

ORGS = {
    "county": ("江县县委", "county_committee", None),
    "dongguan": ("驻东莞服务站党支部", "outstation", "county"),
    "huadu": ("驻花都皮具产业链党支部", "outstation", "county"),
}


def county(tmp: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp}/county.db")
    migrate(engine)
    with engine.begin() as conn:
        for org_id, (name, kind, parent) in ORGS.items():
            conn.execute(insert(orgs.orgs).values(org_id=org_id, name=name, kind=kind, parent_id=parent))
        enrol(conn, "dongguan", Signer.generate().public_key_hex)  # speaks for its own id
        enrol(conn, "office", Signer.generate().public_key_hex, org_ids=["huadu", "county"], office=True)
        enrol(conn, "stray", Signer.generate().public_key_hex, org_ids=["nowhere"])
    return engine


def test_a_node_is_named_after_its_own_org_else_those_it_speaks_for(tmp_path: Path) -> None:
    engine = county(tmp_path)
    try:
        with engine.connect() as conn:
            assert node_names(conn) == {
                "dongguan": "驻东莞服务站党支部",
                "office": "江县县委、驻花都皮具产业链党支部",  # by org id
                "stray": None,  # nothing registered to name it by
            }
            health = {n["node_id"]: n["name"] for n in node_health(conn)["items"]}
            assert health == node_names(conn)
            tree = load_tree(conn)
        assert node_name(tree, "county", set()) == "江县县委"  # its own id wins over what it speaks for
        assert node_name(tree, "county", {"dongguan"}) == "江县县委"
    finally:
        engine.dispose()
