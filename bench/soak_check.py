"""The soak's end: wait until the county has converged, then check that it holds exactly what the
nodes hold, and that its projections are what a rebuild from its archive gives.

Converged: every node's `GET /api/v1/status` shows backlog 0 (the county's receipts confirm its
whole log), nothing waiting and no fork, and the county's `/api/v1/nodes` has each node's head at
the node's last seq with nothing held behind a gap — and then the archive's (seq, hash) list of
every node equals that node's `seals` table exactly.

The check, once every process is stopped: per node, `lost` = envelopes in the node's log the
archive does not hold (same seq and hash), `mismatched` = archived ones the log does not hold,
`doubled` = a seq or an event id archived twice, `ack_missing` = events a node acknowledged to
the load (`201`) that are not archived under the seq it answered; and `tongxin audit digest` of
the county's database against the digest `tongxin county rebuild` prints on a copy of it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.soak_cluster import Cluster, Say, run_tongxin
from bench.soak_db import Row, archive_rows, copy_of, open_quarantine, seal_rows
from bench.soak_load import Load


@dataclass
class NodeCheck:
    node: str
    logged: int
    archived: int
    lost: int
    mismatched: int
    doubled: int
    ack_missing: int

    @property
    def equal(self) -> bool:
        return self.logged == self.archived and not (self.lost or self.mismatched or self.doubled)


@dataclass
class Converged:
    converged: bool
    seconds: float
    waiting: str = ""
    """What was still outstanding at the last poll, if it did not converge."""


@dataclass
class EndCheck:
    nodes: list[NodeCheck] = field(default_factory=list)
    digest_live: str = ""
    digest_rebuilt: str = ""
    quarantined: int = 0

    def total(self, name: str) -> int:
        return sum(int(getattr(n, name)) for n in self.nodes)

    @property
    def digest_equal(self) -> bool:
        return bool(self.digest_live) and self.digest_live == self.digest_rebuilt


def compare(node: str, log: list[Row], archived: list[Row], acknowledged: dict[str, int]) -> NodeCheck:
    in_log = {(s, h) for s, h, _ in log}
    in_archive = {(s, h) for s, h, _ in archived}
    seqs = Counter(s for s, _, _ in archived)
    event_ids = Counter(e for _, _, e in archived)
    doubled = sum(n - 1 for n in seqs.values() if n > 1) + sum(n - 1 for n in event_ids.values() if n > 1)
    by_event = {e: s for s, _, e in archived}
    missing = sum(1 for e, s in acknowledged.items() if by_event.get(e) != s)
    return NodeCheck(
        node,
        logged=len(log),
        archived=len(archived),
        lost=len(in_log - in_archive),
        mismatched=len(in_archive - in_log),
        doubled=doubled,
        ack_missing=missing,
    )


def compare_all(cluster: Cluster, load: Load) -> list[NodeCheck]:
    archive = archive_rows(cluster.db_url)
    return [
        compare(n, seal_rows(cluster.node_dir(n) / "log.db"), archive.get(n, []), load.acknowledged[n])
        for n in cluster.ids
    ]


async def _poll(cluster: Cluster, load: Load) -> str:
    """Empty when the county looks converged from the nodes' and its own APIs, else what is missing."""
    statuses = await asyncio.gather(*(load.status(n) for n in cluster.ids), return_exceptions=True)
    try:
        health = {h["node_id"]: h for h in (await load.county(f"{cluster.county_url}/api/v1/nodes"))["items"]}
    except Exception as exc:
        return f"county: {exc!r}"
    waiting = []
    for node, st in zip(cluster.ids, statuses, strict=True):
        if isinstance(st, BaseException):
            waiting.append(f"{node}: {st!r}")
            continue
        at_county = health.get(node, {})
        held = at_county.get("held") or 0
        held = len(held) if isinstance(held, list) else int(held)
        problems = [f"{k} {st[k]}" for k in ("backlog", "waiting") if st.get(k)]
        if st.get("fork"):
            problems.append(f"fork {st['fork']}")
        if (at_county.get("last_seq") or 0) != st["last_seq"]:
            problems.append(f"county at {at_county.get('last_seq') or 0} of {st['last_seq']}")
        if held:
            problems.append(f"{held} held at the county")
        if problems:
            waiting.append(f"{node}: {', '.join(problems)}")
    return "; ".join(waiting)


async def wait_converged(cluster: Cluster, load: Load, timeout: float, say: Say) -> Converged:
    """Poll (every 0.5 s) until converged, or `timeout` seconds; the seconds it took."""
    began = time.monotonic()
    waiting, last_said = "", began
    while time.monotonic() - began < timeout:
        waiting = await _poll(cluster, load)
        if not waiting:
            checks = await asyncio.to_thread(compare_all, cluster, load)
            if all(c.equal for c in checks):
                return Converged(True, round(time.monotonic() - began, 1))
            waiting = "; ".join(f"{c.node}: archive ≠ log" for c in checks if not c.equal)
        if time.monotonic() - last_said >= 30:
            last_said = time.monotonic()
            say(f"  converging for {last_said - began:.0f} s: {_short(waiting)}")
        await asyncio.sleep(0.5)
    return Converged(False, round(time.monotonic() - began, 1), waiting)


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def digests(db_url: str, root: Path) -> tuple[str, str]:
    """(`tongxin audit digest --db`, the digest `tongxin county rebuild` prints on a copy)."""
    live = run_tongxin("audit", "digest", "--db", db_url, "--json", timeout=600)
    if live.returncode != 0:
        raise RuntimeError(f"audit digest: {live.stderr[-500:]}")
    found: dict[str, Any] = json.loads(live.stdout)
    with copy_of(db_url, root) as copied:
        rebuilt = run_tongxin("county", "rebuild", "--db", copied, timeout=900)
    match = re.search(r"digest\s+(\S+)", rebuilt.stdout)
    if rebuilt.returncode != 0 or match is None:
        raise RuntimeError(f"county rebuild: {rebuilt.stdout[-300:]} {rebuilt.stderr[-500:]}")
    return str(found["digest"]), match.group(1)


def end_check(cluster: Cluster, load: Load) -> EndCheck:
    """With every process stopped: the archive against the logs, quarantine, the digests."""
    result = EndCheck(nodes=compare_all(cluster, load))
    result.quarantined = open_quarantine(cluster.db_url)
    result.digest_live, result.digest_rebuilt = digests(cluster.db_url, cluster.root)
    return result
