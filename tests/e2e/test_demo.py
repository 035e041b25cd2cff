"""`tongxin demo`: the county of the report, reproduced through the county API; resumed, not
duplicated; live events and a node outage that catches up; every child stopped on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import stat
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.errors import Error as NatsError

from shared.envelope import format_time
from shared.transport import connect
from tests.e2e.conftest import tongxin
from tests.e2e.demo_process import DemoProcess
from tongxin.demo.accounts import ACCOUNTS_FILE
from tongxin.demo.county import FIRST_YEAR, HEADLINES, PARK_INDUSTRY
from tongxin.demo.history import build

pytestmark = pytest.mark.slow
H = {key: h.value for key, h in HEADLINES.items()}
SMALL = ("--members", "300", "--seed", "7")


Start = Callable[..., DemoProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Starts `tongxin demo` on a small county in one data dir; kills what is left at the end."""
    started: list[DemoProcess] = []

    def run(*args: str) -> DemoProcess:
        demo = DemoProcess(tmp_path / "demo", *SMALL, *args)
        started.append(demo)
        demo.wait_ready()
        return demo

    yield run
    for demo in started:
        demo.kill()


def headline_figures(demo: DemoProcess) -> dict[str, int]:
    """Every headline figure of the report, read back from the county API."""
    outstations = demo.api("/api/v1/orgs?kind=outstation")["items"]
    chambers = demo.api("/api/v1/orgs?kind=township_chamber")["items"]
    p = demo.api("/api/v1/figures/pioneer")["total"]
    huadu = demo.api("/api/v1/figures/pioneer?org=huadu")["total"]["enterprise.founded"]
    year = demo.api(f"/api/v1/figures/funds?from={FIRST_YEAR + 1}-01-01&to={FIRST_YEAR + 1}-12-31")["total"]
    park = p["returnee.invested"]["by_industry"][PARK_INDUSTRY]
    return {
        "outstations": len(outstations),
        "activity_venues": sum(o["venues"] for o in outstations),
        "teaching_sites": sum(o["teaching_sites"] for o in outstations),
        "chambers": len(chambers),
        "chamber_companies": p["chamber.member_joined"]["by_kind"]["company"]["events"],
        "chamber_persons": p["chamber.member_joined"]["by_kind"]["person"]["events"],
        "chamber_funds_fen": p["chamber.funds_raised"]["amount_fen"],
        "chamber_projects": p["chamber.project_launched"]["events"],
        "huadu_enterprises": huadu["events"],
        "huadu_enriched": huadu["households"],
        "park_enterprises": park["events"],
        "park_jobs": park["jobs"],
        "returnee_enterprises": p["returnee.invested"]["events"],
        "returnee_investment_fen": p["returnee.invested"]["amount_fen"],
        "job_notices": p["jobs.posted"]["notices"],
        "job_placements": p["jobs.placed"]["people"],
        "donations_fen": p["donation.made"]["amount_fen"],
        "legal_consultations": p["legal.consulted"]["people"],
        "disputes": p["dispute.mediated"]["events"],
        "recovered_fen": p["dispute.mediated"]["recovered_fen"],
        "fiscal_per_year_fen": year["received"]["fiscal"],
        "dues_per_year_fen": year["received"]["dues_rebate"],
    }


def assert_levels_agree(demo: DemoProcess, known_at: str | None = None, *, moving: bool = False) -> int:
    """County = Σ townships = Σ their villages, for the total and every status; returns the total.

    While the demo is live, each request sees a later state than the one before: give `known_at`
    and every level is read as the county knew it at that moment, one consistent state; or say
    `moving`, and each response is checked only against itself."""
    at = "" if known_at is None else f"known_at={known_at}"
    county = demo.api(f"/api/v1/roster?{at}")
    assert county["total"] > 0

    def add_up(children: list[dict[str, Any]], level: dict[str, Any]) -> None:
        assert sum(c["total"] for c in children) == level["total"], level["id"]
        for status, n in level["by_status"].items():
            assert sum(c["by_status"][status] for c in children) == n, (level["id"], status)

    add_up(county["children"], county)
    for township in county["children"]:
        if township["id"] is None:
            continue
        level = demo.api(f"/api/v1/roster?township={township['id']}&{at}")
        if not moving:
            assert level["total"] == township["total"]
        add_up(level["children"], level)
    return int(county["total"])


def archived(demo: DemoProcess) -> dict[str, int]:
    return {n["node_id"]: n["last_seq"] for n in demo.api("/api/v1/nodes")["items"]}


def test_demo_reproduces_the_report_and_resumes_without_duplicates(start: Start) -> None:
    demo = start("--rate", "0", "--offline-every", "0")
    try:
        assert headline_figures(demo) == H
        assert assert_levels_agree(demo) == 300  # two of them registered twice, counted once
        assert demo.api("/api/v1/conflicts?kind=double_registration")["total"] == 2
        heads = {n: demo.node_api(n, "/api/v1/status")["last_seq"] for n in demo.nodes}
        assert set(demo.clerk_passwords) == set(demo.nodes)  # how the clerk signs in, beside each page
        assert archived(demo) == heads
        assert len(heads) == 22
        assert_private(demo.data_dir)
        digest = demo.api("/api/v1/digest")
        nats_url = next(
            line.split()[1].rstrip(":") for line in demo.lines if line.strip().startswith("NATS ")
        )
        with pytest.raises(NatsError):  # the demo's NATS, like production's, lets no one in anonymously
            asyncio.run(connect(nats_url))
        second = tongxin("demo", "--data-dir", str(demo.data_dir), "--port", "0", *SMALL)
        assert second.returncode == 1 and "another tongxin demo is running" in second.stdout
    finally:
        code = demo.stop()
    assert code == 0

    again = start("--rate", "0", "--offline-every", "0")
    try:
        assert any("recording history at the nodes: 0/0" in line for line in again.lines)
        assert archived(again) == heads
        assert again.api("/api/v1/digest")["digest"] == digest["digest"]
        assert headline_figures(again) == H
    finally:
        assert again.stop() == 0


def assert_private(data: Path) -> None:
    """The demo's data dir, logs and nodes 0700, every file the demo and its children made 0600
    (its state with the county secret, the accounts' passwords, the county's database and key, each
    node's dir, the logs); nats/ (0700) holds what nats-server writes, in its own modes."""
    loose = {}
    for path in [data, *data.rglob("*")]:
        relative = path.relative_to(data)
        if relative.parts[:1] == ("nats",) and relative != Path("nats"):
            continue
        want = 0o700 if path.is_dir() else 0o600
        if stat.S_IMODE(path.stat().st_mode) != want:
            loose[str(relative)] = f"{stat.S_IMODE(path.stat().st_mode):04o}"
    assert not loose, f"readable by others: {loose}"
    for name in ("demo.json", ACCOUNTS_FILE, "county.db", "county.key", "logs", "nodes/dongguan/log.db"):
        assert (data / name).exists(), name


def history_size(data_dir: Path) -> int:
    state = json.loads((data_dir / "demo.json").read_text())
    history = build(
        state["seed"],
        state["members"],
        date.fromisoformat(state["end"]),
    )
    return sum(len(items) for items in history.items.values())


def test_demo_lives_on_and_an_offline_node_catches_up(start: Start) -> None:
    demo = start("--rate", "10", "--offline-every", "3", "--offline-for", "4")
    try:
        node = demo.wait_for("back online").split()[1]
        head = demo.node_api(node, "/api/v1/status")["last_seq"]
        deadline = time.monotonic() + 60
        while archived(demo)[node] < head:
            assert time.monotonic() < deadline, f"{node} did not catch up to {head}: {archived(demo)[node]}"
            time.sleep(0.5)
        assert sum(archived(demo).values()) > history_size(demo.data_dir)  # live events arrived
        # what the county had received 3 s ago has long been committed: a still picture
        assert_levels_agree(demo, format_time(datetime.now(UTC) - timedelta(seconds=3)))
        assert_levels_agree(demo, moving=True)  # the live projections, each response on its own
    finally:
        assert demo.stop() == 0
