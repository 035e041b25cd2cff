"""The chaos soak, short: bench.soak's own code with 4 nodes for about a minute on SQLite, and again
on PostgreSQL (skipped, saying why, where no server answers).

Every fault kind is injected at least once (the schedule runs on until its first round is
complete); then the county must converge and hold exactly what the nodes hold: nothing lost,
nothing doubled, every acknowledged event archived, the live digest equal to a rebuild's. Every
process the soak starts is stopped in its own `finally`; the test checks that none is left.
`python -m bench.soak` is the long version (bench/README.md).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bench.soak import soak
from bench.soak_cluster import Settings, strays
from bench.soak_db import postgres_up
from bench.soak_faults import KINDS

SHORT = Settings(
    minutes=0.75,
    nodes=4,
    seed=12,
    rate=2.0,
    faults=KINDS,
    gap=1.5,
    repair_grace=3.0,
    converge_timeout=60.0,
)


def _summary(result: dict[str, Any], lines: list[str]) -> str:
    keep = ["unavailable", "faults", "faults_failed", "load", "recorded", "archived", "lost", "doubled"]
    keep += ["mismatched", "ack_missing", "converged", "converge_s", "still_waiting", "digest"]
    figures = {k: result.get(k) for k in keep}
    return "\n".join(lines) + "\n" + json.dumps(figures, ensure_ascii=False, indent=1)[:4000]


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_a_short_soak_converges_with_nothing_lost_or_doubled(db: str, tmp_path: Path) -> None:
    if db == "postgresql" and (why := postgres_up()) is not None:
        pytest.skip(why)
    lines: list[str] = []
    work = tmp_path / "soak"
    try:
        result = asyncio.run(soak(SHORT, db, lines.append, keep=work))
    finally:
        left = strays(work)
    assert not left, f"processes left running: {left}"
    said = _summary(result, lines)
    assert result["converged"], f"not converged within {SHORT.converge_timeout:.0f} s:\n{said}"
    assert (result["lost"], result["doubled"]) == (0, 0), said
    assert (result["mismatched"], result["ack_missing"]) == (0, 0), said
    assert result["nodes_equal"] == SHORT.nodes, said
    assert result["recorded"] == result["archived"] > 0, said
    assert result["digest"]["equal"], said
    assert result["unavailable"] == {}, f"fault kinds this build cannot inject:\n{said}"
    assert set(result["faults"]) == set(KINDS) and not result["faults_failed"], said
    assert result["verdict"] == "PASS", said
