"""The province's databases: one county-style database per county, and the province's own
enrolment of each county's nodes.

A county's database at the province has the county's schema (`services/county/db`) and is built
by the county's own code — `Ingestor` without a county key: it checks every signature and every
hash chain itself, archives and projects, and issues no receipt (the province never speaks to a
node). Its node keys come from the province's own enrolment (`enrol`), never from a county's
database: a county that forged or replaced an envelope would have to forge a node's signature.
`url_of` makes each county's database URL from one template with `{county}` in it, e.g.
`sqlite:///province-data/{county}.db` or `postgresql://province@db/province_{county}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate
from services.county.ingest.processor import Ingestor
from services.county.reenrolment import reenrol
from services.county.registry import enrol as county_enrol
from shared.errors import FieldError
from shared.ids import is_slug

DEFAULT_DB_TEMPLATE = "sqlite:///province-data/{county}.db"
COUNTY_CACHE_KIB = 8 * 1024
"""Each county's SQLite page cache at the province: 8 MiB, not the county's own 64 MiB. One
province ingest holds every county's databases open (100 × 64 MiB = 6.4 GiB once they are past
that size; bench.scale_province measured 1.8 GiB at 8,400 events a county), and a county's part of a
batch touches only that county's pages."""


def url_of(template: str, county_id: str) -> str:
    if "{county}" not in template:
        raise FieldError("db_template", "must contain {county}, e.g. sqlite:///province-data/{county}.db")
    return template.replace("{county}", county_id)


def check_counties(county_ids: Iterable[str]) -> tuple[str, ...]:
    """The county ids, each a slug, at least one, none twice."""
    ids = tuple(county_ids)
    if not ids:
        raise FieldError("county", "name at least one county")
    for cid in ids:
        if not is_slug(cid):
            raise FieldError("county", f"{cid!r} is not a slug (lowercase letters, digits, - and _)")
    if len(set(ids)) != len(ids):
        raise FieldError("county", "a county is named twice")
    return ids


class ProvinceStore:
    """Each county's engine (migrated on opening) and its receipt-less `Ingestor`."""

    def __init__(self, template: str, county_ids: Iterable[str], cache_kib: int = COUNTY_CACHE_KIB) -> None:
        self.county_ids = check_counties(county_ids)
        self.engines: dict[str, Engine] = {}
        for cid in self.county_ids:
            engine = make_engine(url_of(template, cid), cache_kib=cache_kib)
            migrate(engine)
            self.engines[cid] = engine
        self._ingestors: dict[str, Ingestor] = {}

    def ingestor(self, county_id: str) -> Ingestor | None:
        """The county's ingestor (None: not a county of this province); never with a signer."""
        if county_id not in self.engines:
            return None
        if county_id not in self._ingestors:
            self._ingestors[county_id] = Ingestor(self.engines[county_id], county_id, None)
        return self._ingestors[county_id]

    def enrol(
        self,
        county_id: str,
        node_id: str,
        public_key_hex: str,
        *,
        org_ids: Sequence[str] | None = None,
        office: bool | None = None,
    ) -> str:
        """Enrol a county's node at the province with its first public key (as the county's own
        enrolment, `services.county.registry.enrol`: later keys come inside the node's chain)."""
        engine = self.engines.get(county_id)
        if engine is None:
            raise FieldError("county", f"{county_id} is not a county of this province")
        with engine.begin() as conn:
            key_id = county_enrol(conn, node_id, public_key_hex, org_ids=org_ids, office=office)
        ingestor = self._ingestors.get(county_id)
        if ingestor is not None:
            ingestor.keys.refresh()
        return key_id

    def reenrol(self, county_id: str, node_id: str, public_key_hex: str, from_seq: int) -> str:
        """The node's new key from `from_seq`, after the province revoked its keys from there
        (`services.county.reenrolment.reenrol`)."""
        engine = self.engines.get(county_id)
        if engine is None:
            raise FieldError("county", f"{county_id} is not a county of this province")
        with engine.begin() as conn:
            return reenrol(conn, node_id, public_key_hex, from_seq)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
