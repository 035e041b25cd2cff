"""The county's Prometheus gauges read from the database at scrape time: open quarantine and each
node's health (the query layer's numbers, as `GET /api/v1/nodes` gives them), and how far each
node's newest receipt is behind its archived head."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.county.queries.common import now_text, seconds_between
from services.county.queries.node_health import node_health
from services.county.queries.quarantine import open_count

GAUGES = {
    "lag_s": ("tongxin_county_node_lag_seconds", "Seconds between recording and arrival of the head"),
    "silent_s": ("tongxin_county_node_silent_seconds", "Seconds since anything arrived from the node"),
    "last_seq": ("tongxin_county_node_last_seq", "Highest seq archived without a gap"),
    "held": ("tongxin_county_node_held", "Envelopes held back behind a gap"),
    "missing": ("tongxin_county_node_missing", "Seqs missing in the gaps of the node's chain"),
    "resend_requests": ("tongxin_county_node_resend_requests", "Re-send requests made to the node so far"),
    "quarantined": ("tongxin_county_node_quarantined", "Open quarantined messages of the node"),
    "refused_claims": (
        "tongxin_county_node_refused_claims",
        "Archived events of the node the projections do not apply: not its to say (docs/authority.md)",
    ),
    "max_skew_s": ("tongxin_county_node_max_skew_seconds", "Most the node clock was seen ahead"),
}
"""Per-node gauges: the node-health field each one reads, its metric name and help."""

RECEIPT_BEHIND = (
    "tongxin_county_node_receipt_behind",
    "Seqs of the archived head that the newest receipt stored for the node does not cover",
)
RECEIPT_LAG = (
    "tongxin_county_node_receipt_lag_seconds",
    "Seconds since the archived head arrived while no receipt covers it (0 when one does)",
)


def receipt_lag(node: dict[str, Any], now: str) -> tuple[int, int] | None:
    """(seqs behind, seconds waiting) of the node's newest receipt (the newest issued, the one the
    node trusts) against its archived head; None while nothing is archived. Receipts are stored in
    the transaction that moves the head, so both are 0 unless a head moved without a county key
    (`county quarantine retry`) or the receipts table lost rows; whether a stored receipt reached
    the node is not known here (the node's own `tongxin_node_backlog` says)."""
    last_seq = int(node["last_seq"])
    if last_seq == 0:
        return None
    covered = int(node["last_receipt"]["seq"]) if node["last_receipt"] else 0
    behind = max(0, last_seq - covered)
    waiting = seconds_between(now, node["last_seen"]) if behind else 0
    return behind, max(0, waiting or 0)


class ScrapeCollector(Collector):
    """Gauges read from the database at scrape time: open quarantine and each node's health."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("tongxin_county_db_up", "1 if the county database answered this scrape")
        try:
            with self.engine.connect() as conn:
                open_q = open_count(conn)
                now = now_text()
                nodes = node_health(conn, now=now)["items"]
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        quarantined = GaugeMetricFamily("tongxin_county_quarantine_open", "Quarantined messages not resolved")
        quarantined.add_metric([], open_q)
        yield quarantined
        for key, (name, doc) in GAUGES.items():
            family = GaugeMetricFamily(name, doc, labels=["node_id"])
            for node in nodes:
                if node[key] is not None:
                    family.add_metric([node["node_id"]], float(node[key]))
            yield family
        behind = GaugeMetricFamily(*RECEIPT_BEHIND, labels=["node_id"])
        waiting = GaugeMetricFamily(*RECEIPT_LAG, labels=["node_id"])
        for node in nodes:
            lag = receipt_lag(node, now)
            if lag is not None:
                behind.add_metric([node["node_id"]], lag[0])
                waiting.add_metric([node["node_id"]], lag[1])
        yield behind
        yield waiting
