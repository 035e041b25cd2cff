"""The county hands a node its archived envelopes only when the node itself asks: a query signed
by that node's key, just now, on its own subject (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from services.county.ingest.processor import Ingestor
from services.county.repair.archive_reply import answer
from shared import envelope, repair
from shared.signing import Signer
from shared.wire import archive_subject
from tests.county.helpers import enrol_nodes, feed, open_node, record
from tests.samples import fund, registration


def _query(signer: Signer, node_id: str = "dongguan", after: int = 0, at: str | None = None) -> bytes:
    q = repair.ArchiveQuery(node_id=node_id, after=after, limit=50, at=at or repair.now_text())
    return repair.encode(repair.sign(q, signer))


def test_only_the_node_itself_gets_its_envelopes_back(county_engine: Engine, tmp_path: Path) -> None:
    dongguan, huadu = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    try:
        enrol_nodes(county_engine, dongguan, huadu)
        datas = record(dongguan, [registration(i) for i in range(60)])
        feed(Ingestor(county_engine, "jx"), datas + record(huadu, [fund(1, org="huadu")]))
        subject = archive_subject("jx", "dongguan")

        page = answer(county_engine, "jx", subject, _query(dongguan.first_key))
        assert page.error is None and page.head == 60 and len(page.envelopes) == 50
        assert [e.encode() for e in page.envelopes] == datas[:50], "byte for byte what the node signed"
        rest = answer(county_engine, "jx", subject, _query(dongguan.first_key, after=50))
        assert [envelope.decode(e.encode()).seq for e in rest.envelopes] == list(range(51, 61))

        refused = {
            "huadu's key": _query(huadu.first_key),
            "a key of nobody's": _query(Signer.generate()),
            "another node's name": _query(huadu.first_key, node_id="huadu"),
            "an old copy": _query(
                dongguan.first_key, at=envelope.format_time(datetime.now(UTC) - timedelta(hours=2))
            ),
            "unsigned": b'{"node_id":"dongguan","after":0,"at":"%s"}' % repair.now_text().encode(),
            "not json": b"\xff",
        }
        for what, data in refused.items():
            got = answer(county_engine, "jx", subject, data)
            assert got.error is not None and got.envelopes == [], what
        on_huadus = answer(county_engine, "jx", archive_subject("jx", "huadu"), _query(dongguan.first_key))
        assert on_huadus.error is not None and on_huadus.envelopes == [], (
            "dongguan's query on huadu's subject"
        )
    finally:
        dongguan.close()
        huadu.close()
