"""The province's databases: one per county, each with a small page cache (all are open at once)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from services.county.db.engine import CACHE_KIB, make_engine
from services.province.store import COUNTY_CACHE_KIB, ProvinceStore


def cache_kib(engine: Engine) -> int:
    with engine.connect() as conn:
        return -int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())


def test_each_county_database_at_the_province_has_its_own_smaller_page_cache(tmp_path: Path) -> None:
    template = f"sqlite:///{tmp_path}/{{county}}.db"
    store = ProvinceStore(template, ["anhua", "baojing"])
    smaller = ProvinceStore(template, ["anhua"], cache_kib=1024)
    try:
        assert [cache_kib(e) for e in store.engines.values()] == [COUNTY_CACHE_KIB] * 2
        assert cache_kib(smaller.engines["anhua"]) == 1024
        assert COUNTY_CACHE_KIB < CACHE_KIB
    finally:
        store.close()
        smaller.close()
    county = make_engine(f"sqlite:///{tmp_path}/county.db")  # the county's own keeps its 64 MiB
    try:
        assert cache_kib(county) == CACHE_KIB
    finally:
        county.dispose()
