"""The soak's load: every node records events through its own HTTP API (`POST /api/v1/events`) at
`--rate` per second, the event mix of bench.county (registrations, moves, funds, meetings,
trainings, mediations, services, jobs; the organisation tree first, at the first node).

Each acknowledged event (`201 {"seq", "event_id"}`) is remembered, so that the end check can ask
for every one of them in the archive. A request the node refused (422, e.g. a move of a member
whose registration was not recorded because the node was down) or could not answer (down,
restarting) is counted and not retried; one that timed out may or may not have been recorded
(ambiguous) — the node's log, not this count, is what the archive is compared with.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.county_mix import e2e_item, preamble

VILLAGES = 20
MEMBERS_PER_NODE = 1_000_000
"""Node k registers the members k·10⁶ + i: distinct ID numbers across all nodes."""


def auth(token: str | None) -> dict[str, str]:
    """The header of a node's bearer token (none for a build without tokens)."""
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def post(url: str, body: Any, timeout: float = 5.0, token: str | None = None) -> tuple[str, Any]:
    """("ok", answer) on 2xx; ("refused", detail) on 4xx; ("error", reason) on 5xx or no answer;
    ("ambiguous", reason) when the request was sent but no answer came in time."""
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **auth(token)}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return "ok", json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        return ("refused" if exc.code < 500 else "error"), f"HTTP {exc.code}: {detail}"
    except TimeoutError as exc:
        return "ambiguous", repr(exc)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return "ambiguous", repr(reason)
        return "error", repr(reason)


def get(url: str, timeout: float = 5.0, token: str | None = None) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=auth(token)), timeout=timeout) as resp:
        return json.loads(resp.read())


class Load:
    """Drives every node; `acknowledged[node]` maps each event id a node acknowledged to its seq."""

    def __init__(
        self,
        urls: dict[str, str],
        rate: float,
        seed: int,
        tokens: dict[str, str] | None = None,
        county_token: str | None = None,
    ) -> None:
        self.urls = urls
        self.tokens = tokens or {}
        """Each node's bearer token: its API answers no one else."""
        self.county_token = county_token
        """An operator's bearer token for the county's node health."""
        self.ids = list(urls)
        self.rate = rate
        self.rng = random.Random(seed)
        self.index = dict.fromkeys(self.ids, 0)
        self.acknowledged: dict[str, dict[str, int]] = {n: {} for n in self.ids}
        self.counts: Counter[str] = Counter()
        self.last_problem: dict[str, str] = {}
        self.paused: set[str] = set()
        """Nodes the load leaves alone for now (a fault is working on them)."""
        self.pool = ThreadPoolExecutor(len(self.ids) + 4, thread_name_prefix="soak-load")

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def record_preamble(self, attempts: int = 20) -> int:
        """The organisation tree at the first node, in one batch, before anything else."""
        first = self.ids[0]
        items = preamble(VILLAGES, len(self.ids))
        for _ in range(attempts):
            url = f"{self.urls[first]}/api/v1/events/batch"
            outcome, answer = await self._call(post, url, {"events": items}, 5.0, self.tokens.get(first))
            if outcome == "ok":
                self.counts["preamble"] += len(answer["seqs"])
                return len(items)
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the organisation tree was not recorded at {first}: {answer}")

    def next_item(self, node: str) -> dict[str, Any]:
        k = self.ids.index(node)
        i = self.index[node]
        self.index[node] = i + 1
        return e2e_item(i, k * MEMBERS_PER_NODE, node, VILLAGES)

    async def record_one(self, node: str) -> str:
        """Post the node's next event; returns the outcome ("ok", "refused", "error", "ambiguous")."""
        item = self.next_item(node)
        outcome, answer = await self._call(
            post, f"{self.urls[node]}/api/v1/events", item, 5.0, self.tokens.get(node)
        )
        self.counts["posted"] += 1
        self.counts["acknowledged" if outcome == "ok" else outcome] += 1
        if outcome == "ok":
            self.acknowledged[node][answer["event_id"]] = answer["seq"]
        else:
            self.last_problem[node] = str(answer)[:200]
        return str(outcome)

    async def run(self, stop: asyncio.Event) -> None:
        """Every node at `rate` events/s (jittered start), until `stop`."""
        if self.rate <= 0:
            await stop.wait()
            return
        await asyncio.gather(*(self._drive(node, stop) for node in self.ids))

    async def _drive(self, node: str, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.rate
        due = loop.time() + self.rng.uniform(0, period)
        while not stop.is_set():
            delay = due - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return
                except TimeoutError:
                    pass
            due = max(due + period, loop.time() - period)  # a slow node does not get a burst after
            if node not in self.paused:
                await self.record_one(node)

    async def status(self, node: str) -> Any:
        return await self._call(get, f"{self.urls[node]}/api/v1/status", 5.0, self.tokens.get(node))

    async def county(self, url: str) -> Any:
        """A read of the county's API, as its operator."""
        return await self._call(get, url, 5.0, self.county_token)
