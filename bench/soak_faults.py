"""The soak's faults, drawn from a seeded schedule and injected one after another while the load
runs: each kind once per round, the rounds shuffled by the seed, a seeded pause between faults.

    node_kill        kill -9 a node, restart it after 0.5–4 s
    county_kill      kill -9 `county serve`, restart it after 0.5–5 s
    nats_kill        kill -9 the nats-server, restart it on the same port and store after 0.5–5 s
    link_cut         cut the links (proxies) of one, some or all nodes for 2–12 s, then restore
    msgid_preempt    cut a node's link, record a few events there, publish garbage on its events
                     subject under the Msg-Ids its next envelopes will carry (seq and hash read
                     from its log.db `seals` past its forwarding cursor), then restore the link
    steal            a foreign client pulls from the county's durable consumer and acks what it got
    consumer_delete  delete the county's durable consumer
    node_restore     `node backup`, record a while, wait until the county confirmed the node's log,
                     stop it, `node restore --force`, `node recover`, start it again

What each fault did is kept in `Chaos.log` (and printed as it happens).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError

from bench.county_mix import COUNTY
from bench.soak_cluster import Cluster, Say, run_tongxin
from bench.soak_load import Load
from services.county.ingest.durable import consumer_name
from shared.nats_identity import NatsIdentity
from shared.wire import STREAM, events_subject, msg_id

KINDS = (
    "node_kill",
    "county_kill",
    "nats_kill",
    "link_cut",
    "msgid_preempt",
    "steal",
    "consumer_delete",
    "node_restore",
)
NEEDS = {"node_restore": ("backup", "restore", "recover")}
"""The `tongxin node` commands a kind cannot run without."""


@dataclass
class Fault:
    kind: str
    at_s: float
    """Seconds since the chaos began."""
    took_s: float
    target: str
    detail: str
    injected: bool = True


def unforwarded(log_db: Path, limit: int) -> list[tuple[int, str]]:
    """(seq, hash) of the node's signed envelopes past its saved forwarding cursor."""
    conn = sqlite3.connect(f"{log_db.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        (cursor,) = conn.execute("SELECT forwarded_seq FROM forwarding").fetchone()
        rows = conn.execute("SELECT seq, hash FROM seals WHERE seq > ? ORDER BY seq LIMIT ?", (cursor, limit))
        return [(int(s), str(h)) for s, h in rows]
    finally:
        conn.close()


class Chaos:
    def __init__(self, cluster: Cluster, load: Load, kinds: tuple[str, ...], seed: int, say: Say) -> None:
        self.c = cluster
        self.load = load
        self.kinds = kinds
        self.rng = random.Random(seed)
        self.say = say
        self.log: list[Fault] = []
        self.began = time.monotonic()
        self.last_end = self.began
        self.backups = 0
        self.garbage = 0
        """Garbage messages JetStream stored (not dropped as duplicates) under pre-empted Msg-Ids."""
        self.stolen = 0

    async def run(self, seconds: float, gap: float) -> None:
        """Inject faults until `seconds` have passed since the chaos began — and every kind was
        injected once at least (a short soak runs on until its first round is complete)."""
        self.began = self.last_end = time.monotonic()
        order: list[str] = []
        while self.kinds:
            pause = self.rng.uniform(0.5 * gap, 1.5 * gap)
            covered = {f.kind for f in self.log} >= set(self.kinds)
            if covered and time.monotonic() + pause - self.began >= seconds:
                return
            await asyncio.sleep(pause)
            if not order:
                order = list(self.kinds)
                self.rng.shuffle(order)
            await self.inject(order.pop())

    async def inject(self, kind: str) -> Fault:
        started = time.monotonic()
        inject: Callable[[], Awaitable[tuple[str, str]]] = getattr(self, kind)
        try:
            target, detail = await inject()
            injected = True
        except Exception as exc:  # reported, not fatal: the soak goes on and the end check decides
            target, detail, injected = "-", f"FAILED: {exc!r}"[:300], False
        self.last_end = time.monotonic()
        fault = Fault(kind, round(started - self.began, 1), round(self.last_end - started, 1), target, detail)
        fault.injected = injected
        self.log.append(fault)
        self.say(f"  t+{fault.at_s:6.1f}s  {kind:<15} {target:<10} {detail} ({fault.took_s:.1f} s)")
        return fault

    # -- processes ----------------------------------------------------------------------------------
    async def node_kill(self) -> tuple[str, str]:
        node = self.rng.choice(self.c.ids)
        down = self.rng.uniform(0.5, 4.0)
        await self.c.kill(self.c.nodes[node])
        await asyncio.sleep(down)
        await self.c.restart(self.c.nodes[node])
        return node, f"kill -9, restarted after {down:.1f} s"

    async def county_kill(self) -> tuple[str, str]:
        down = self.rng.uniform(0.5, 5.0)
        await self.c.kill(self.c.county)
        await asyncio.sleep(down)
        await self.c.restart(self.c.county)
        return "county", f"kill -9, restarted after {down:.1f} s"

    async def nats_kill(self) -> tuple[str, str]:
        down = self.rng.uniform(0.5, 5.0)
        await self.c.kill_nats()
        await asyncio.sleep(down)
        await self.c.start_nats()
        return "nats", f"kill -9, restarted after {down:.1f} s (same port and store)"

    # -- links --------------------------------------------------------------------------------------
    async def link_cut(self) -> tuple[str, str]:
        ids = self.c.ids
        k = len(ids) if self.rng.random() < 0.4 else self.rng.randint(1, len(ids))
        nodes = sorted(self.rng.sample(ids, k))
        down = self.rng.uniform(2.0, 12.0)
        for node in nodes:
            await self.c.proxies[node].cut()
        await asyncio.sleep(down)
        for node in nodes:
            self.c.proxies[node].restore()
        target = "all" if k == len(ids) else (nodes[0] if k == 1 else f"{k} nodes")
        return target, f"links cut for {down:.1f} s"

    async def msgid_preempt(self) -> tuple[str, str]:
        node = self.rng.choice(self.c.ids)
        extra = self.rng.randint(3, 8)
        proxy = self.c.proxies[node]
        self.load.paused.add(node)
        await proxy.cut()
        try:
            await asyncio.sleep(0.3)
            for _ in range(extra):
                await self.load.record_one(node)
            await asyncio.sleep(0.3)
            rows = await asyncio.to_thread(unforwarded, self.c.node_dir(node) / "log.db", 50)
            fresh, already = await self._publish_garbage(node, rows)
            self.garbage += fresh
        finally:
            proxy.restore()
            self.load.paused.discard(node)
        seqs = f"seq {rows[0][0]}–{rows[-1][0]}" if rows else "nothing unforwarded"
        return node, f"garbage under {fresh} of the next Msg-Ids ({seqs}; {already} already in the stream)"

    async def _publish_garbage(self, node: str, rows: list[tuple[int, str]]) -> tuple[int, int]:
        fresh = already = 0
        nc = await self._connect(self.c.node_identity(node))  # a node gone wrong, in its own name
        try:
            js = nc.jetstream()
            for seq, hash in rows:
                body = b"soak: not an envelope " + secrets.token_bytes(16)
                ack = await js.publish(
                    events_subject(COUNTY, node), body, headers={"Nats-Msg-Id": msg_id(node, seq, hash)}
                )
                if ack.duplicate:
                    already += 1
                else:
                    fresh += 1
        finally:
            await nc.close()
        return fresh, already

    async def _connect(self, identity: NatsIdentity) -> Any:
        return await nats.connect(
            self.c.nats.url, allow_reconnect=False, connect_timeout=3, **identity.options()
        )

    # -- the county's consumer ----------------------------------------------------------------------
    async def steal(self) -> tuple[str, str]:
        want = self.rng.randint(5, 60)
        stolen = 0
        nc = await self._connect(self.c.nats.identity("operator"))  # an operator's slip
        try:
            js = nc.jetstream()
            try:
                sub = await js.pull_subscribe_bind(consumer_name(COUNTY), STREAM)
            except NotFoundError:
                return "consumer", "no consumer to steal from (it is being recreated)"
            deadline = time.monotonic() + 5.0
            while stolen < want and time.monotonic() < deadline:
                msgs: list[Any] = []
                with contextlib.suppress(nats.errors.TimeoutError):
                    msgs = await sub.fetch(batch=want - stolen, timeout=1.0)
                for msg in msgs:
                    await msg.ack()
                    stolen += 1
                    self.stolen += 1
            await nc.flush()
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        finally:
            await nc.close()
        return "consumer", f"stole and acked {stolen} of {want} wanted"

    async def consumer_delete(self) -> tuple[str, str]:
        nc = await self._connect(self.c.nats.identity("operator"))  # an operator's slip
        try:
            try:
                await nc.jetstream().delete_consumer(STREAM, consumer_name(COUNTY))
            except NotFoundError:
                return "consumer", "no consumer to delete (it is being recreated)"
        finally:
            await nc.close()
        return "consumer", f"deleted {consumer_name(COUNTY)}"

    # -- a node's disaster --------------------------------------------------------------------------
    async def node_restore(self) -> tuple[str, str]:
        node = self.rng.choice(self.c.ids)
        data = self.c.node_dir(node)
        self.backups += 1
        backup = self.c.root / "backups" / f"{node}-{self.backups}"
        await self._cli("node", "backup", "--out", str(backup), "--data-dir", str(data))
        at_backup = len(self.load.acknowledged[node])
        await asyncio.sleep(self.rng.uniform(3.0, 10.0))
        self.load.paused.add(node)
        try:
            after = len(self.load.acknowledged[node]) - at_backup
            waited = time.monotonic()
            unconfirmed = await self._until_confirmed(node, 30.0)
            waited = time.monotonic() - waited
            await self.c.stop_child(self.c.nodes[node])
            await self._cli("node", "restore", "--from", str(backup), "--data-dir", str(data), "--force")
            recovering = time.monotonic()
            await self._cli("node", "recover", "--yes", "--data-dir", str(data))
            recovering = time.monotonic() - recovering
            await self.c.restart(self.c.nodes[node])
        finally:
            if not self.c.nodes[node].alive:  # a step failed: the node serves again as it is
                await self.c.restart(self.c.nodes[node])
            self.load.paused.discard(node)
        left = f"{unconfirmed} still unconfirmed" if unconfirmed else "all confirmed"
        return node, (
            f"backup, {after} events recorded after it, {left} after {waited:.1f} s; stopped, "
            f"restored, recovered in {recovering:.1f} s, started"
        )

    async def _until_confirmed(self, node: str, timeout: float) -> int:
        """Wait until the county confirmed the node's whole log; returns its backlog then."""
        deadline = time.monotonic() + timeout
        backlog = -1
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                backlog = int((await self.load.status(node))["backlog"])
                if backlog == 0:
                    return 0
            await asyncio.sleep(0.5)
        return backlog

    async def _cli(self, *args: str) -> None:
        done = await asyncio.to_thread(run_tongxin, *args, timeout=120.0)
        if done.returncode != 0:
            raise RuntimeError(f"tongxin {' '.join(args[:2])} exited {done.returncode}: {done.stderr[-300:]}")
