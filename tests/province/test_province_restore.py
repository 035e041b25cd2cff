"""A province database restored from a backup (here: from an empty one) loses nothing: the
province's ingest re-reads its stream from the lowest county position, and what it had already
is counted once."""

from __future__ import annotations

from pathlib import Path

from services.province.durable import held
from services.province.store import ProvinceStore
from tests.province.site import Province
from tests.province.test_province import items
from tests.repair.site import wait_until

COUNTIES = ("anhua", "baojing")


def test_a_restored_province_database_is_filled_again_from_the_stream(tmp_path: Path) -> None:
    p = Province(tmp_path, COUNTIES, ("dongguan",))
    try:
        p.start()
        for c, county in enumerate(p.counties.values(), start=1):
            county.record("dongguan", items(c, 0, 0, 4, "dongguan"))
        caught_up = lambda: all(p.archive(c) == p.counties[c].archive() != [] for c in COUNTIES)  # noqa: E731
        wait_until(caught_up, 60, "the province")
        wait_until(lambda: held(p.store) > 0, 30, "the positions settled at the ack floor")
        p.stop_ingest()

        p.store.engines["anhua"].dispose()  # anhua's database at the province lost, restored empty
        for f in (tmp_path / "province").glob("anhua.db*"):
            f.unlink()
        p.store.close()
        p.store = ProvinceStore(f"sqlite:///{tmp_path / 'province'}/{{county}}.db", COUNTIES)
        assert p.archive("anhua") == []
        for node in p.counties["anhua"].nodes.values():
            p.store.enrol("anhua", node.node_id, node.first_key.public_key_hex)

        ingest = p.start_ingest()
        wait_until(caught_up, 60, "the province again")
        assert ingest.durable == "recreated"
        assert ingest.counts["archived"] == len(p.counties["anhua"].archive())
        assert ingest.counts["duplicate"] >= len(p.counties["baojing"].archive()), "baojing's again, once"
    finally:
        p.close()
