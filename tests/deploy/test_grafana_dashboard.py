"""deploy/grafana/tongxin.json: valid JSON, a Prometheus data source variable every panel uses,
every metric a panel's query names is one the county exports (a real /metrics scrape), and every
metric family the county exports has a panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "tongxin.json"
METRIC = re.compile(r"\b(tongxin_[a-z_]+)")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_a_prometheus_data_source_variable_every_panel_uses() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    for panel in dashboard()["panels"]:
        uses = [panel["datasource"], *(t["datasource"] for t in panel["targets"])]
        assert all(d == {"type": "prometheus", "uid": "${datasource}"} for d in uses), panel["title"]
        assert panel["targets"], panel["title"]


def test_every_metric_of_a_panel_is_exported(exported: set[str]) -> None:
    for expr in exprs():
        named = set(METRIC.findall(expr))
        assert named and named <= exported, f"{expr}: {named - exported} not exported"


def test_every_exported_family_has_a_panel(families: set[str]) -> None:
    shown = {m.removesuffix("_total") for e in exprs() for m in METRIC.findall(e)}
    counted = {
        f for f in families if f.startswith("tongxin_") and not f.endswith("_created")
    }  # a counter's birth
    assert counted <= shown, counted - shown


def test_panels_do_not_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for panel in dashboard()["panels"]:
        g = panel["gridPos"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert g["x"] + g["w"] <= 24 and not mine & cells, panel["title"]
        cells |= mine
