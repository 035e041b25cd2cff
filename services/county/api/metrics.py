"""The county's Prometheus gauges read from the database at scrape time: open quarantine and each
node's health (the query layer's numbers, as `GET /api/v1/nodes` gives them)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

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


class ScrapeCollector(Collector):
    """Gauges read from the database at scrape time: open quarantine and each node's health."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("tongxin_county_db_up", "1 if the county database answered this scrape")
        try:
            with self.engine.connect() as conn:
                open_q = open_count(conn)
                nodes = node_health(conn)["items"]
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
