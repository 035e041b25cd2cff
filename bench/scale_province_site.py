"""bench.scale_province's steps: the servers, the feed, the province's enrolment, and the timed
sourcing, ingest, verification and memory readings, each a `Row` (or rows)."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from bench.county_steps import Row, child, count, tongxin
from bench.node import rss_kib
from bench.scale_province_feed import Feed, make_feed, publish_all
from services.county.db import tables as t
from services.province.durable import DURABLE
from services.province.figures import province_figures, province_roster
from services.province.store import ProvinceStore
from services.province.stream import PROVINCE_STREAM, ensure_province_stream
from shared.nats_identity import write_seed
from shared.streams import ensure_stream
from shared.transport import connect
from shared.wire import STREAM
from tongxin.natsd_province import ProvinceServers

DB = "province"
MAX_BYTES = 4 * 1024**3
"""TONGXIN_PROVINCE's limit here (and the ingest's `--max-bytes`): room for 100 × 21 × 100 events."""
STALL = 60.0
"""Sourcing that copies nothing new for this long has stalled."""
MiB = 1024.0  # /proc and ru_maxrss are in KiB


class Site:
    """The servers, the feed and the province's databases of one run, all under `root`."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root, self.args = root, args
        self.counties = tuple(f"c{k:03d}" for k in range(1, args.counties + 1))
        self.servers = ProvinceServers(root / "nats", self.counties)
        (root / "province").mkdir(parents=True, exist_ok=True)
        self.template = f"sqlite:///{root / 'province'}/{{county}}.db"
        self.feed = Feed()
        self.per = args.province_nodes * args.province_events
        self.expected = args.counties * self.per
        self.ingest_hwm = 0

    def start(self) -> Row:
        t0 = time.perf_counter()
        self.servers.province.start()
        for cid in self.counties:
            self.servers.add_county(cid).start()
        asyncio.run(_ensure_streams([s.url for s in self.servers.counties.values()]))
        dt = time.perf_counter() - t0
        note = f"1 province + {len(self.counties)} county nats-servers, a stream each, joined as leafnodes"
        return Row(DB, "servers started (not timed)", dt, "s", note=note)

    def fill(self, say: Callable[[str], None]) -> Row:
        a = self.args
        t0 = time.perf_counter()
        self.feed = make_feed(self.root / "nodes", a.province_nodes, a.province_events, a.province_villages)
        say(f"    {len(self.feed):,} events sealed in {time.perf_counter() - t0:.1f}s; now signed per county")
        urls = {c: s.url for c, s in self.servers.counties.items()}
        took = asyncio.run(publish_all(urls, self.feed))
        in_streams = asyncio.run(_messages(list(urls.values())))
        note = (
            f"{a.province_nodes} chains × {a.province_events} signed for each county and published into "
            f"its stream in {took:.1f}s ({self.expected / took:,.0f}/s; signing "
            f"{self.feed.signing / self.expected * 1e6:,.0f} µs/event)"
        )
        ok = in_streams == self.expected
        return Row(
            DB, "county streams filled (not timed)", in_streams, "msgs", f"= {self.expected:,}", ok, note
        )

    def enrol(self) -> Row:
        t0 = time.perf_counter()
        store = ProvinceStore(self.template, self.counties)
        migrated = time.perf_counter() - t0
        keys = self.feed.keys
        try:
            for cid in self.counties:
                for node_id, key in keys.items():
                    store.enrol(cid, node_id, key, office=node_id == self.feed.office or None)
        finally:
            store.close()
        dt = time.perf_counter() - t0
        note = f"{len(self.counties)} SQLite databases migrated in {migrated:.1f}s, then "
        note += f"{len(self.counties) * len(keys):,} nodes enrolled"
        return Row(DB, "province enrolment (not timed)", dt, "s", note=note)

    def sourcing(self) -> Row:
        return asyncio.run(self._sourcing())

    async def _sourcing(self) -> Row:
        stalls = self.fc_stalls()
        nc = await connect(self.servers.province.url, identity=self.servers.identity, timeout=5.0)
        try:
            js = nc.jetstream(timeout=10.0)
            t0 = time.time()
            await ensure_province_stream(js, self.counties, max_bytes=MAX_BYTES)
            first, last_change, n = 0.0, t0, 0
            deadline = t0 + self.args.province_timeout
            while n < self.expected and time.time() < deadline and time.time() - last_change < STALL:
                await asyncio.sleep(0.25)
                now = int((await js.stream_info(PROVINCE_STREAM)).state.messages)
                if now != n:
                    first, n, last_change = first or time.time(), now, time.time()
            t1 = last_change
            await asyncio.sleep(3.0)
            after = int((await js.stream_info(PROVINCE_STREAM)).state.messages)
        finally:
            await nc.close()
        rate = n / max(t1 - t0, 1e-9)
        note = f"{len(self.counties)} sources: {n:,} in {t1 - t0:.1f}s (the first after "
        note += f"{(first or t1) - t0:.1f}s); {after:,} 3 s later"
        if stalls := self.fc_stalls() - stalls:
            note += f"; the province's server warned {stalls:,} times of a source stalled on flow control"
        if n < self.expected:
            note = f"STALLED at {n:,} of {self.expected:,} (nothing new for {STALL:.0f}s); " + note
        target = f"= {self.expected:,}"
        return Row(
            DB,
            "sourcing: TONGXIN_PROVINCE ← every county",
            rate,
            "msgs/s",
            target,
            after == self.expected,
            note,
        )

    def fc_stalls(self) -> int:
        """How often the province's server has said a source is stalled on flow control."""
        log = self.servers.province.store_dir / "nats-server.log"
        return log.read_text(errors="replace").count("stalled on flow control") if log.exists() else 0

    def ingest(self, baseline: float | None) -> list[Row]:
        seed = self.root / "province.seed"
        if not seed.exists():
            write_seed(seed, self.servers.seed)
        cmd = [tongxin(), "province", "ingest", "--nats", self.servers.province.url, "--once"]
        cmd += [x for c in self.counties for x in ("--county", c)]
        cmd += ["--db-template", self.template, "--nats-seed", str(seed), "--max-bytes", str(MAX_BYTES)]
        log = self.root / "province-ingest.log"
        t0, ready = time.time(), 0.0
        with child(cmd, log) as proc:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # its rusage: CPU, peak RSS
                if pid:
                    t1, proc.returncode = time.time(), os.waitstatus_to_exitcode(status)
                    break
                if time.time() > t0 + self.args.province_timeout:
                    raise RuntimeError(
                        f"`province ingest --once` still running after {time.time() - t0:.0f}s"
                    )
                if not ready and asyncio.run(self._durable()):
                    ready = time.time()
                time.sleep(0.5)
        said = log.read_text(errors="replace").strip().splitlines()
        if proc.returncode != 0:
            raise RuntimeError(f"`tongxin province ingest` exited {proc.returncode}: {said[-5:]}")
        self.ingest_hwm = usage.ru_maxrss
        cpu, dt, ready = usage.ru_utime + usage.ru_stime, t1 - t0, ready or t0
        rate = self.expected / dt
        note = (
            f"{len(self.counties)} counties: start → exit {dt:.1f}s (durable made after {ready - t0:.1f}s, "
            f"{self.expected / max(t1 - ready, 1e-9):,.0f}/s from there); "
            f"CPU {cpu / self.expected * 1e6:,.0f} µs/event; peak RSS {usage.ru_maxrss / MiB:,.0f} MiB; "
            f"said: {said[-1] if said else '-'}"
        )
        per_event = cpu / self.expected * 1e6
        rows = [
            Row(DB, "province ingest: sourced → verified, archived", rate, "events/s", note=note),
            Row(DB, "  province ingest CPU", per_event, "µs/event", note="user + system, the child's rusage"),
        ]
        if baseline:
            note = f"county e2e {baseline:,.0f} events/s in this run"
            rows.append(
                Row(DB, "  province ingest / county e2e (R1, 1 worker)", rate / baseline, "ratio", note=note)
            )
        return rows

    async def _durable(self) -> bool:
        nc = await connect(self.servers.province.url, identity=self.servers.identity)
        try:
            await nc.jetstream().consumer_info(PROVINCE_STREAM, DURABLE)
            return True
        except Exception:
            return False
        finally:
            await nc.close()

    def verified(self) -> list[Row]:
        feed, c = self.feed, len(self.counties)
        store = ProvinceStore(self.template, self.counties)
        try:
            bad = []
            for cid, engine in store.engines.items():
                got = (count(engine, t.archive), count(engine, t.quarantine), count(engine, t.held))
                if got != (self.per, 0, 0):
                    bad.append(f"{cid}: archive {got[0]}, quarantine {got[1]}, held {got[2]}")
            figures, roster = province_figures(store), province_roster(store)
        finally:
            store.close()
        received = figures["province"]["funds"]["received_total"]
        summed = sum(x["funds"]["received_total"] for x in figures["counties"])
        members, members_summed = roster["province"]["total"], sum(x["total"] for x in roster["counties"])
        funds_ok = received == summed == feed.funds_fen * c
        adds_up = funds_ok and members == members_summed == feed.registrations * c
        note = "; ".join(bad[:3]) + (f" … {len(bad)} counties short" if bad else "")
        sums = f"funds received {received:,} fen (Σ counties {summed:,}, expected {feed.funds_fen * c:,}); "
        sums += f"members Σ counties {members_summed:,}"
        return [
            Row(
                DB,
                "  every county: archive = N·E, quarantine 0, held 0",
                c - len(bad),
                "counties",
                f"= {c}",
                not bad,
                note or f"{self.per:,} archived in each",
            ),
            Row(
                DB,
                "  figures, roster: province = Σ counties = expected",
                members,
                "members",
                f"= {feed.registrations * c:,}",
                adds_up,
                sums,
            ),
        ]

    def memory(self) -> Row:
        province = self.servers.province.proc
        live = [s.proc.pid for s in self.servers.counties.values() if s.proc and s.proc.poll() is None]
        counties = [rss_kib(p) for p in live]
        mine = rss_kib(province.pid) if province is not None else 0
        peak = rss_kib(province.pid, "VmHWM") if province is not None else 0
        note = (
            f"province nats-server {mine / MiB:,.0f} MiB (peak {peak / MiB:,.0f}); {len(counties)} county "
            f"servers Σ {sum(counties) / MiB:,.0f} MiB (max {max(counties, default=0) / MiB:,.0f}); "
            f"province ingest peak {self.ingest_hwm / MiB:,.0f} MiB"
        )
        total = (mine + sum(counties) + self.ingest_hwm) / MiB
        return Row(DB, "memory: servers + ingest peak", total, "MiB", note=note)

    def close(self) -> None:
        self.feed.close()
        self.servers.stop()


async def _ensure_streams(urls: list[str]) -> None:
    for url in urls:
        await ensure_stream(url)


async def _messages(urls: list[str]) -> int:
    n = 0
    for url in urls:
        nc = await connect(url)
        try:
            n += int((await nc.jetstream().stream_info(STREAM)).state.messages)
        finally:
            await nc.close()
    return n
