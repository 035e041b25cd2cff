"""The county's /metrics, scraped from the real app over a real database: how far each node's
newest receipt is behind its archived head (`tongxin_county_node_receipt_*`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from services.county.api.app import create_app
from services.county.api.metrics import receipt_lag
from services.county.ingest.processor import Ingestor
from services.county.queries.node_health import node_health
from shared import envelope
from shared.signing import Signer
from tests.accounts import CountyClient
from tests.county.helpers import TEST_KEYS, enrol_nodes, feed, open_node, record
from tests.samples import fund


def scrape(engine: Engine) -> dict[tuple[str, str], float]:
    """Every sample of /metrics as {(name, node_id): value}."""
    text = CountyClient(create_app(engine, personal=TEST_KEYS)).get("/metrics").text
    return {
        (s.name, s.labels.get("node_id", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_head_moved_without_a_receipt_shows_how_far_the_receipt_is_behind(
    county_engine: Engine, tmp_path: Path
) -> None:
    dongguan, huadu, idle = (open_node(tmp_path, n) for n in ("dongguan", "huadu", "idle"))
    enrol_nodes(county_engine, dongguan, huadu, idle)
    signed = Ingestor(county_engine, "jx", Signer.from_seed_hex("c1" * 32))
    feed(signed, record(dongguan, [fund(i, "dongguan") for i in range(3)]))
    feed(signed, record(huadu, [fund(i, "huadu") for i in range(2)]))
    before = scrape(county_engine)
    for node in ("dongguan", "huadu"):
        assert before[("tongxin_county_node_receipt_behind", node)] == 0
        assert before[("tongxin_county_node_receipt_lag_seconds", node)] == 0
    assert ("tongxin_county_node_receipt_behind", "idle") not in before, "nothing archived, nothing to cover"

    # the head moves with no county key (as `county quarantine retry` does): no receipt covers it
    feed(Ingestor(county_engine, "jx"), record(huadu, [fund(i, "huadu") for i in range(2, 6)]))
    after = scrape(county_engine)
    assert after[("tongxin_county_node_receipt_behind", "huadu")] == 4
    with county_engine.connect() as conn:
        (node,) = node_health(conn, "huadu")["items"]
    later = envelope.format_time(datetime.fromisoformat(node["last_seen"]) + timedelta(seconds=90))
    assert receipt_lag(node, later) == (4, 90), "the head has waited 90 s for a receipt"
    assert after[("tongxin_county_node_last_seq", "huadu")] == 6
    assert after[("tongxin_county_node_receipt_behind", "dongguan")] == 0

    feed(signed, record(huadu, [fund(6, "huadu")]))
    assert scrape(county_engine)[("tongxin_county_node_receipt_behind", "huadu")] == 0, "a receipt at 7"
