"""bench.county's shared pieces, and its measurements over NATS: county e2e, raw JetStream, rebuild."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

from nats.js.errors import NotFoundError
from sqlalchemy import Engine, func, select

from bench.county_mix import COUNTY
from bench.nats_users import BenchNats
from bench.node import stream
from services.branch_node.config import NodeDir
from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService
from services.county.audit.replay import Bounds, build
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.durable import consumer_name
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from services.county.registry import enrol
from shared.nats_identity import NatsIdentity
from shared.transport import connect
from shared.wire import msg_id

Say = Callable[[str], None]
PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    db: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target
    note: str = ""


@dataclass
class Ctx:
    root: Path
    nats: str
    args: Any
    say: Say
    bus: BenchNats
    """Who connects as whom: nodes as themselves, the county as county, raw baselines as operator."""
    e2e_nodes: list[Path] = field(default_factory=list)
    query_nodes: list[Path] = field(default_factory=list)
    envelopes: list[tuple[str, str, bytes]] = field(default_factory=list)  # subject, Msg-Id, bytes


def tongxin() -> str:
    beside = Path(sys.executable).parent / "tongxin"
    return str(beside) if beside.exists() else shutil.which("tongxin") or "tongxin"


def fresh_engine(url: str, nodes: list[Path]) -> Engine:
    """A migrated county database with every node enrolled; the first, which records the
    organisation tree (`county_mix.preamble`), as the county office's node (docs/authority.md:
    else the tree is archived as refused claims, not projected, and no village is known)."""
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        for k, path in enumerate(nodes):
            d = NodeDir(path)
            enrol(conn, d.config().node_id, d.signer().public_key_hex, office=k == 0)
    return engine


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def archived_by_heads(engine: Engine) -> int:
    """Envelopes archived, read cheaply while the county works: each node's archived seqs are
    1..last_seq (a seq past a gap is held, not archived) and `node_heads` is written in the same
    transaction as the archive rows, so the sum of last_seq is the archive's count — a count(*)
    scanned the whole archive at every poll, CPU the county's run then lacked."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(t.node_heads.c.last_seq), 0))).scalar_one())


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))] if s else float("nan")


@contextlib.contextmanager
def child(cmd: list[str], log: Path, **kw: Any) -> Iterator[Popen[bytes]]:
    """A child process, stopped (SIGTERM, then SIGKILL after 10 s) whatever happens."""
    path = os.pathsep.join(p for p in (str(PROJECT), os.environ.get("PYTHONPATH")) if p)
    env = os.environ | {"PYTHONPATH": path}  # `bench` importable from the temp dir
    with open(log, "ab") as out:  # in the temp dir: whatever a child writes beside it stays there
        proc = Popen(cmd, stdout=kw.pop("stdout", out), stderr=out, cwd=log.parent, env=env, **kw)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def consumer_exists(url: str, name: str, identity: NatsIdentity) -> bool:
    nc = await connect(url, identity=identity)
    try:
        await nc.jetstream().consumer_info("TONGXIN", name)
        return True
    except NotFoundError:
        return False
    finally:
        await nc.close()


def wait_until(check: Callable[[], bool], proc: Popen[bytes], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{proc.args!r} exited ({proc.returncode}) before {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


class Forwarding(threading.Thread):
    """Every node's Forwarder.run(once=True), concurrently on one event loop in this thread."""

    def __init__(self, nodes: list[NodeService], url: str) -> None:
        super().__init__(daemon=True)
        self.nodes, self.url = nodes, url
        self.done_at: float | None = None
        self.failures = 0
        self.error: BaseException | None = None
        self._halting: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by the caller
            self.error = exc

    async def _main(self) -> None:
        self._loop, self._halting = asyncio.get_running_loop(), asyncio.Event()
        fwds = [Forwarder(n, self.url) for n in self.nodes]
        await asyncio.gather(*(f.run(self._halting, once=True) for f in fwds))
        self.done_at = time.time()
        self.failures = sum(f.state.failures for f in fwds)

    def halt(self) -> None:
        if self._loop is not None and self._halting is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                self._loop.call_soon_threadsafe(self._halting.set)

    def finish(self, timeout: float) -> None:
        """Until every forwarder is done (or `timeout`); what failed in this thread raised here."""
        self.join(timeout)
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Halt (if still running), wait for the thread, close the nodes: whatever happened."""
        self.halt()
        self.join(30)
        for node in self.nodes:
            node.close()


def e2e(ctx: Ctx, db: str, url: str, engine: Engine) -> tuple[list[Row], float]:
    run_root, expected = ctx.root / f"e2e-{db}", len(ctx.envelopes)
    shutil.copytree(ctx.e2e_nodes[0].parent, run_root)  # fresh cursors for every database
    operator = ctx.bus.operator
    asyncio.run(stream(ctx.nats, operator, fresh=True))
    log = ctx.root / f"county-ingest-{db}.log"
    cmd = [tongxin(), "county", "ingest", "--county-id", COUNTY, "--db", url, "--nats", ctx.nats]
    cmd += ctx.bus.seed_args("county")
    nodes = [NodeService(run_root / p.name) for p in ctx.e2e_nodes]  # each forwards as itself
    fwd = Forwarding(nodes, ctx.nats)
    try:
        with child(cmd, log) as proc:
            ready = lambda: asyncio.run(consumer_exists(ctx.nats, consumer_name(COUNTY), operator))  # noqa: E731
            wait_until(ready, proc, 60, "the county's durable consumer", log)
            ctx.say(f"    forwarding {len(nodes)} nodes concurrently; `tongxin county ingest` consuming")
            t0 = time.time()
            fwd.start()
            samples: list[tuple[float, int]] = []  # (time, archived)

            def caught_up() -> bool:
                samples.append((time.time(), archived_by_heads(engine)))
                return samples[-1][1] >= expected

            wait_until(caught_up, proc, ctx.args.timeout, "all envelopes archived", log)
            t1, cpu = samples[-1][0], cpu_seconds(proc.pid)
            fwd.finish(ctx.args.timeout)
    finally:
        fwd.stop()
    archived = count(engine, t.archive)
    quarantined, held = count(engine, t.quarantine), count(engine, t.held)
    rate = expected / (t1 - t0)
    done = fwd.done_at or t1
    ts, ns = next((s for s in samples if s[0] >= done), samples[-1])
    during, alone = ns / max(ts - t0, 1e-9), (expected - ns) / max(t1 - ts, 1e-9)
    note = (
        f"{len(nodes)} nodes × {ctx.args.events:,} in {t1 - t0:.1f}s; forwarders done after "
        f"{done - t0:.1f}s (failures {fwd.failures}), {ns:,} archived by then ({during:,.0f}/s), "
        f"then {alone:,.0f}/s; county process CPU {cpu / expected * 1e6:,.0f} µs/event"
    )
    ok = archived == expected and quarantined == 0 and held == 0
    return [
        Row(db, "county e2e: recorded → projected", rate, "events/s", "≥ 8,000", rate >= 8_000, note),
        Row(
            db,
            "  archive count",
            archived,
            "rows",
            f"= {expected:,}",
            ok,
            f"quarantined {quarantined}, held {held}",
        ),
    ], rate


def envelopes(ctx: Ctx) -> list[tuple[str, str, bytes]]:
    """Every template node's signed envelopes with their subject and Msg-Id, node after node."""
    out: list[tuple[str, str, bytes]] = []
    for path in ctx.e2e_nodes:
        node = NodeService(path)
        try:
            seq = 0
            while chunk := node.envelopes.rows_after(seq, 10_000):
                out += [(node.subject, msg_id(node.node_id, s, h), d) for s, h, d in chunk]
                seq = chunk[-1][0]
        finally:
            node.close()
    return out


async def publish(url: str, rows: list[tuple[str, str, bytes]], window: int, identity: NatsIdentity) -> float:
    """publish_async of every row (max pending = window); returns the time it was all acked."""
    nc = await connect(url, identity=identity, pending_size=64 * 1024 * 1024)
    try:
        js = nc.jetstream(publish_async_max_pending=window)
        for subject, mid, data in rows:
            await js.publish_async(subject, data, headers={"Nats-Msg-Id": mid})
        await js.publish_async_completed()
        return time.time()
    finally:
        await nc.close()


def raw_baseline(ctx: Ctx, db: str, e2e_rate: float) -> list[Row]:
    rows, n = ctx.envelopes, len(ctx.envelopes)
    operator = ctx.bus.operator  # publisher and consumer: a user with every permission
    asyncio.run(stream(ctx.nats, operator, fresh=True))
    cmd = [sys.executable, "-m", "bench.county_worker", "raw", "--nats", ctx.nats, "--count", str(n)]
    cmd += ctx.bus.seed_args("operator")
    with child(cmd, ctx.root / f"raw-{db}.log", stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"raw consumer did not start (exit {proc.wait()})")
        t0 = time.time()
        published = asyncio.run(publish(ctx.nats, rows, 4000, operator))
        out, _ = proc.communicate(timeout=ctx.args.timeout)
    last, acked = out.split()
    rate, pub = n / (float(last) - t0), n / (published - t0)
    in_stream = asyncio.run(stream(ctx.nats, operator))
    note = f"publish_async (max pending 4,000) {pub:,.0f} msgs/s; stream {in_stream:,}; acked {int(acked):,}"
    if ctx.bus.users:
        note = "both as the NATS operator; " + note
    ratio = e2e_rate / rate
    ok = None if in_stream == n and int(acked) >= n else False
    return [
        Row(db, "raw: publish_async ∥ fetch(1000)+ack", rate, "msgs/s", "", ok, note),
        Row(
            db,
            "county e2e / raw",
            ratio,
            "ratio",
            "",
            None,
            "same envelopes, subjects, Msg-Ids; "
            + ("NATS users" if ctx.bus.users else "NATS open (--open-nats)"),
        ),
    ]


def rebuild_rows(ctx: Ctx, db: str, engine: Engine) -> list[Row]:
    with engine.connect() as conn:
        live = digest(conn)
    with engine.begin() as conn:
        t0 = time.perf_counter()
        n = rebuild(conn)
        dt = time.perf_counter() - t0
        rebuilt = digest(conn)
    rate = n / dt
    same = live == rebuilt
    return [
        Row(
            db,
            "rebuild from the archive",
            rate,
            "events/s",
            "≥ 20,000",
            rate >= 20_000,
            f"{n:,} in {dt:.1f}s",
        ),
        Row(db, "  digest live == rebuilt", None, "", "equal", same, f"{live[:12]}… / {rebuilt[:12]}…"),
        *replay_rows(db, engine, live),
    ]


def replay_rows(db: str, engine: Engine, live: str) -> list[Row]:
    """`tongxin audit replay` of the whole archive (no bounds) into a temporary SQLite file."""
    t0 = time.perf_counter()
    scratch = build(engine, Bounds())
    dt = time.perf_counter() - t0
    result = scratch.result
    scratch.close()
    rate = result.replayed / dt
    same = result.digest == live
    note = f"{result.replayed:,} in {dt:.1f}s into a temporary SQLite file"
    return [
        Row(db, "full replay (audit)", rate, "events/s", "≥ 20,000", rate >= 20_000, note),
        Row(db, "  digest live == replayed", None, "", "equal", same, f"{result.digest[:12]}…"),
    ]
