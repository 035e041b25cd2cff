"""bench.scale's measurements: the county end to end on a fresh NATS (one server or three) with
W ingest workers, the CPU each part of the machine spent on it, and raw JetStream beside it.

Every run gets its own nats-server(s) with a fresh store and its own fresh database, so no run
reads another's messages or is de-duplicated against them (the same envelopes and Msg-Ids go
into every run). The county's ingest runs as `tongxin county ingest` child processes — one, or
`--worker w --workers W` each — as in production; the nodes forward from this process
(`county_steps.Forwarding`), as in bench.county.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

from sqlalchemy import Engine, text

from bench.county_mix import COUNTY
from bench.county_steps import (
    Ctx,
    Forwarding,
    archived_by_heads,
    child,
    consumer_exists,
    count,
    cpu_seconds,
    fresh_engine,
    raw_baseline,
    tongxin,
    wait_until,
)
from bench.nats_users import BenchNats
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.ingest.durable import consumer_name
from services.county.ingest.partitions import Share
from services.county.keys import load_signing
from services.county.projections.digest import digest
from shared.transport import connect
from shared.wire import STREAM


@dataclass
class Run:
    """One end-to-end run: the rate, the CPU by part (seconds), and what the database holds."""

    label: str
    events: int
    seconds: float
    cpu: dict[str, float]
    archived: int
    quarantined: int
    held: int
    digest: str
    shares: list[int] = field(default_factory=list)
    """Nodes per worker."""
    db_bytes: int = 0
    """What the PostgreSQL database grew by (archive, projections, indexes)."""
    stream_bytes: int = 0
    """The events stream's bytes afterwards (one replica's)."""
    machine: str = ""
    """How the machine's cores spent the run: busy, waiting on I/O, idle."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def complete(self) -> bool:
        return self.archived == self.events and self.quarantined == 0 and self.held == 0

    def cpu_per_event(self, part: str | None = None) -> float:
        """µs of CPU per event, of one part or of all."""
        total = self.cpu[part] if part is not None else sum(self.cpu.values())
        return total / self.events * 1e6

    def cpu_note(self) -> str:
        parts = ", ".join(f"{k} {self.cpu_per_event(k):,.0f}" for k, v in self.cpu.items())
        busy = sum(self.cpu.values()) / self.seconds
        return f"CPU µs/event: {parts}; these {busy:.2f} cores busy on average; machine: {self.machine}"


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on this machine (the server and its backends)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
    return pids


def cpu_of(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            out[pid] = cpu_seconds(pid)
    return out


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process born in between counts from zero."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


class Meter:
    """CPU readings of the ingest workers, the nats-servers, PostgreSQL and this process."""

    def __init__(self, bus: BenchNats, workers: list[Popen[bytes]], postgres: bool) -> None:
        self.bus, self.workers, self.postgres = bus, workers, postgres

    def read(self) -> dict[str, dict[int, float]]:
        reading = {
            "machine": machine_times(),
            "ingest": cpu_of([p.pid for p in self.workers]),
            "nats-server": cpu_of(self.bus.pids),
            "nodes (bench process)": {0: time.process_time()},
        }
        if self.postgres:
            reading["PostgreSQL"] = cpu_of(postgres_pids())
        return reading

    @staticmethod
    def between(
        a: dict[str, dict[int, float]], b: dict[str, dict[int, float]]
    ) -> tuple[dict[str, float], str]:
        """CPU seconds by part, and how the machine's time went (busy, waiting on I/O, idle)."""
        parts = {part: spent(a[part], b[part]) for part in b if part != "machine"}
        d = {k: b["machine"][k] - a["machine"][k] for k in b["machine"]}
        total = sum(d.values()) or 1.0
        machine = ", ".join(
            f"{name} {d[k] / total:.0%}" for k, name in ((0, "busy"), (1, "I/O wait"), (2, "idle"))
        )
        return parts, machine


def machine_times() -> dict[int, float]:
    """The machine's CPU time so far (/proc/stat, all cores): 0 busy, 1 waiting on I/O, 2 idle."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]
    )
    return {0: user + nice + system + irq + softirq + steal, 1: iowait, 2: idle}


def worker_args(workers: int) -> list[list[str]]:
    if workers == 1:
        return [[]]
    return [["--worker", str(w), "--workers", str(workers)] for w in range(workers)]


def consumers(workers: int) -> list[str]:
    if workers == 1:
        return [consumer_name(COUNTY)]
    return [Share(w, workers).consumer_name(COUNTY) for w in range(workers)]


def database_bytes(engine: Engine) -> int:
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as conn:
        return int(conn.execute(text("select pg_database_size(current_database())")).scalar_one())


def wait_all(check: Callable[[], bool], procs: list[Popen[bytes]], logs: list[Path], timeout: float) -> None:
    """Until `check()`, polled every 0.2 s; an error if a worker exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not check():
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(
                    f"{proc.args!r} exited ({proc.returncode}) before all was archived:\n{tail}"
                )
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for all to be archived")
        time.sleep(0.2)


async def stream_bytes(bus: BenchNats) -> int:
    nc = await connect(bus.url, identity=bus.operator)
    try:
        return int((await nc.jetstream().stream_info(STREAM)).state.bytes)
    finally:
        await nc.close()


def e2e_run(ctx: Ctx, label: str, bus: BenchNats, url: str, workers: int) -> Run:
    """The recorded nodes forward concurrently into `bus`; W workers ingest into `url`; timed
    from the first forward until every envelope is archived (and so projected)."""
    run_root, expected = ctx.root / f"run-{slug(label)}", len(ctx.envelopes)
    shutil.copytree(ctx.e2e_nodes[0].parent, run_root / "nodes")  # fresh cursors
    engine = fresh_engine(url, ctx.e2e_nodes)
    empty = database_bytes(engine)  # a fresh PostgreSQL database is ~7.5 MB before any event
    key = run_root / "county.key"
    load_signing(key, engine)  # made once, before W workers would each make it at once
    base = [tongxin(), "county", "ingest", "--county-id", COUNTY, "--db", url, "--nats", bus.url]
    base += ["--county-key", str(key), *bus.seed_args("county")]
    nodes = [NodeService(run_root / "nodes" / p.name) for p in ctx.e2e_nodes]
    fwd = Forwarding(nodes, bus.url)
    logs = [run_root / f"ingest-{w}.log" for w in range(workers)]
    try:
        with contextlib.ExitStack() as stack:
            procs = [
                stack.enter_context(child(base + more, log))
                for more, log in zip(worker_args(workers), logs, strict=True)
            ]
            for name, proc, log in zip(consumers(workers), procs, logs, strict=True):
                ready = lambda n=name: asyncio.run(consumer_exists(bus.url, n, bus.operator))  # noqa: E731
                wait_until(ready, proc, 90, f"consumer {name}", log)
            meter = Meter(bus, procs, engine.dialect.name == "postgresql")
            ctx.say(f"    {label}: {len(nodes)} nodes forwarding, {workers} ingest worker(s)")
            first, t0 = meter.read(), time.time()
            fwd.start()
            wait_all(lambda: archived_by_heads(engine) >= expected, procs, logs, ctx.args.timeout)
            t1, (cpu, machine) = time.time(), Meter.between(first, meter.read())
            fwd.finish(ctx.args.timeout)
    finally:
        fwd.stop()
    try:
        with engine.connect() as conn:
            done = digest(conn)
        return Run(
            label,
            expected,
            t1 - t0,
            cpu,
            count(engine, t.archive),
            count(engine, t.quarantine),
            count(engine, t.held),
            done,
            [len(Share(w, workers).nodes(engine)) for w in range(workers)] if workers > 1 else [],
            database_bytes(engine) - empty,
            asyncio.run(stream_bytes(bus)),
            machine,
        )
    finally:
        engine.dispose()


def raw_rate(ctx: Ctx, label: str, bus: BenchNats) -> tuple[float, str]:
    """Raw JetStream on `bus`: publish_async of the same envelopes ∥ fetch(1000) + ack."""
    here = Ctx(ctx.root, bus.url, ctx.args, ctx.say, bus, ctx.e2e_nodes, [], ctx.envelopes)
    row = raw_baseline(here, label, 0.0)[0]
    return float(row.value or 0.0), row.note


def slug(label: str) -> str:
    """A label ("R3 ×1") as a file name ("r3-1"): nats-server's config takes no spaces in paths."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def on_fresh_nats(ctx: Ctx, name: str, cluster: bool) -> BenchNats:
    """A started server (or cluster) with a fresh store, every recorded node let in as itself."""
    bus = BenchNats(ctx.root / f"nats-{slug(name)}", open_access=ctx.args.open_nats, cluster=cluster)
    try:
        bus.start()
        bus.allow(*ctx.e2e_nodes)
    except BaseException:
        bus.stop()
        raise
    return bus
