"""The alert rules (deploy/prometheus/tongxin-rules.yml): `promtool check rules` accepts them,
`promtool test rules` proves each fires and stays quiet when it should, each names only metrics the
county exports, has a severity, a Chinese and English summary and description, and a runbook entry
that exists in docs/operations.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "tongxin-rules.yml"
TESTS = ROOT / "deploy" / "prometheus" / "tongxin-rules.test.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed here (Debian: apt-get install prometheus; .ci/run does)",
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def alerts() -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r]


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings (lowercased, punctuation dropped, spaces as -)."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return out


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    done = subprocess.run(
        [PROMTOOL or "", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    done = subprocess.run(
        [PROMTOOL or "", "test", "rules", TESTS.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=TESTS.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases = [c for t in yaml.safe_load(TESTS.read_text())["tests"] for c in t.get("alert_rule_test", [])]
    for rule in alerts():
        mine = [c for c in cases if c["alertname"] == rule["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"{rule['alert']} never tested firing"
        assert any(not c["exp_alerts"] for c in mine), f"{rule['alert']} never tested quiet"


def test_every_alert_says_how_bad_what_in_two_languages_and_where_the_runbook_is() -> None:
    runbook = anchors((ROOT / "docs" / "operations.md").read_text())
    for rule in alerts():
        name, notes = rule["alert"], rule["annotations"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        for key in ("summary", "description"):
            assert CHINESE.search(notes[key]) and re.search(r"[A-Za-z]{4} [a-z]+", notes[key]), (name, key)
        path, anchor = notes["runbook_url"].split("#")
        assert path == "docs/operations.md" and anchor in runbook, f"{name}: no runbook entry #{anchor}"


def test_every_metric_of_the_rules_is_exported(exported: set[str]) -> None:
    for rule in alerts():
        named = set(re.findall(r"\b(tongxin_[a-z_]+)", rule["expr"]))
        assert named or rule["expr"].startswith('up{job="tongxin-county"}'), rule["alert"]  # Prometheus's own
        assert named <= exported, (
            f"{rule['alert']} names {named - exported}, which the county does not export"
        )
