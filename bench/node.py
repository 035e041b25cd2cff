"""Branch node figures: batched append+sign, backlog forwarding against raw nats-py, idle serve RSS.

    python -m bench.node [--events N] [--backlog N] [--open-nats] [--json]

Measures and prints; never asserts. Everything runs in temp dirs against an embedded nats-server,
with its users (nodes as themselves, the raw baseline as the operator) unless `--open-nats`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from subprocess import Popen
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from bench.nats_users import OPEN_HELP, BenchNats
from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.forwarder import Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared.catalog.base import id_check_digit
from shared.nats_identity import NatsIdentity
from shared.streams import ensure_stream
from shared.transport import connect
from shared.wire import STREAM, resend_msg_id
from tests.ids import GIVEN
from tongxin.natsd import find_binary, free_port

if TYPE_CHECKING:
    from services.branch_node.application import NewEvent

err = Console(stderr=True)
AT = "2026-03-01T10:00:00+08:00"


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target
    note: str = ""


def id_number(i: int) -> str:
    """A valid resident ID number (GB 11643 check digit), distinct for i < 12,000,000."""
    born = date(1960, 1, 1) + timedelta(days=i % 12_000)
    body = f"431126{born:%Y%m%d}{(i // 12_000) % 1000:03d}"
    return body + id_check_digit(body)


def member_of(g: int) -> str:
    """Member g's id, given with the registration (as an import from another system gives one), so
    that the events naming members are made without asking the node."""
    return hashlib.sha256(f"bench member {g}".encode()).hexdigest()[:32]


def item(i: int) -> dict[str, Any]:
    """Request item i, in cycles of 20: 6 registrations, 1 move of an earlier batch's member
    (its aggregate is loaded from the log), 3 funds, 2 meetings, 2 trainings, 3 mediations,
    2 services, 1 job placement."""
    k, base, org = i % 20, i - i % 20, f"outstation-{i % 5}"

    mid = member_of
    p: dict[str, Any]
    if k < 6:
        person = dict(name=f"成员{i}", id_number=id_number(i), phone=f"138{i % 10**8:08d}")
        t, p = "member.registered", dict(member_id=mid(i), personal=person, home_branch=f"village-{i % 7}")
        p |= dict(outstation=org, host_location="广东东莞", flowed_out_on="2019-03-01")
    elif k == 6:
        moved = mid(base - 1000 if base >= 1000 else base)
        t, p = "member.moved", dict(member_id=moved, host_location="广东深圳", outstation=org)
    elif k < 10:
        t, p = "fund.received", dict(org_id=org, source="host_subsidy", amount_fen=10_000 + i)
    elif k < 12:
        t, p = "orglife.held", dict(org_id=org, kind="theme_day", topic="主题党日")
        p["attendees"] = [mid(base + j) for j in range(6)]
    elif k < 14:
        t, p = "training.held", dict(org_id=org, mode="cloud", title="云党课", hours=2)
        p["attendees"] = [mid(base + j) for j in range(3)]
    elif k < 17:
        t, p = "dispute.mediated", dict(org_id=org, category="wages", outcome="resolved")
    elif k < 19:
        t, p = "service.provided", dict(org_id=org, line="labour", people=1 + i % 9)
    else:
        t, p = "jobs.placed", dict(org_id=org, people=1 + i % 4)
    return {"type": t, "occurred_at": AT, "payload": p}


def make_events(n: int) -> list[NewEvent]:
    return [parse_item(item(i), GIVEN) for i in range(n)]


def new_node(path: Path, node_id: str, url: str = "nats://127.0.0.1:4222") -> NodeService:
    NodeDir(path).create(NodeConfig(node_id=node_id, county_id="jx", nats_url=url))
    return NodeService(path)


def record_all(node: NodeService, events: list[NewEvent], batch: int) -> float:
    """NodeService.record in batches; returns events/s."""
    t = time.perf_counter()
    for s in range(0, len(events), batch):
        node.record(events[s : s + batch])
    return len(events) / (time.perf_counter() - t)


def bench_append(root: Path, bus: BenchNats, args: argparse.Namespace) -> list[Row]:
    n, batch, t = args.events, args.batch, time.perf_counter()
    events = make_events(n)
    parse = n / (time.perf_counter() - t)
    node = new_node(root / "record", "bench-record")
    try:
        rec = record_all(node, events, batch)
    finally:
        node.close()
    node = new_node(root / "split", "bench-split")
    ta = ts = 0.0
    try:
        for s in range(0, n, batch):
            t0 = time.perf_counter()
            node.log.append(events[s : s + batch])
            t1 = time.perf_counter()
            node.sign_pending()
            ta, ts = ta + t1 - t0, ts + time.perf_counter() - t1
    finally:
        node.close()
    note, both, ev = f"{n:,} events, batches of {batch:,}", n / (ta + ts), "events/s"
    return [
        Row("parse_item (building the NewEvents)", parse, ev, note="not part of the rates below"),
        Row("NodeService.record(batch): append + sign", rec, ev, "≥ 10,000", rec >= 10_000, note),
        Row("  log.append only", n / ta, ev, note="same events, fresh node"),
        Row("  sign only (hash chain + Ed25519)", n / ts, ev),
        Row("  log.append then sign", both, ev, "≥ 10,000", both >= 10_000),
    ]


async def stream(url: str, identity: NatsIdentity, *, fresh: bool = False) -> int:
    """Messages in the TONGXIN stream, asked as `identity` (the operator); with fresh, make sure it
    exists first (it denies delete and purge, so a run after another counts what it added: see
    `raw_publish`)."""
    if fresh:
        await ensure_stream(url, identity=identity)
    nc = await connect(url, identity=identity)
    try:
        return int((await nc.jetstream().stream_info(STREAM)).state.messages)
    finally:
        await nc.close()


async def raw_publish(
    node: NodeService, bus: BenchNats, rows: list[tuple[int, str, bytes]], window: int, timeout: float
) -> tuple[float, int, int]:
    """js.publish_async of the same bytes and subject, each under a Msg-Id of its own (the
    forwarder's are in the duplicate window already: a repair re-send's ids, as `resend_msg_id`
    makes them), as the operator: (msgs/s, messages it added to the stream, nacks)."""
    url, operator = bus.url, bus.operator
    before = await stream(url, operator, fresh=True)
    nc = await connect(url, identity=operator, pending_size=64 * 1024 * 1024)  # as the forwarder
    try:
        js = nc.jetstream(publish_async_max_pending=window)
        subject, node_id, attempt = node.subject, node.node_id, f"raw{time.time_ns()}"
        t = time.perf_counter()
        futs = [
            await js.publish_async(
                subject, data, headers={"Nats-Msg-Id": resend_msg_id(node_id, seq, hash, attempt)}
            )
            for seq, hash, data in rows
        ]
        await asyncio.wait_for(js.publish_async_completed(), timeout)
        rate = len(rows) / (time.perf_counter() - t)
    finally:
        await nc.close()
    return rate, await stream(url, operator) - before, sum(1 for f in futs if f.exception() is not None)


def bench_forward(root: Path, bus: BenchNats, args: argparse.Namespace) -> list[Row]:
    node = new_node(root / "backlog", "bench-fwd", bus.url)
    bus.allow(root / "backlog")
    try:
        rate = record_all(node, make_events(args.backlog), args.batch)
        who = "as the node; raw as the operator" if bus.users else "NATS open"
        err.print(f"    Forwarder, then raw publish_async ({who})")
        rows = asyncio.run(forward_and_raw(node, bus, args.timeout))
    finally:
        node.close()
    return [Row(f"  NodeService.record up to {args.backlog:,}", rate, "events/s", note="the backlog"), *rows]


async def forward_and_raw(node: NodeService, bus: BenchNats, timeout: float) -> list[Row]:
    n, url, operator = node.log.last_seq(), bus.url, bus.operator
    before = await stream(url, operator, fresh=True)
    fwd, stop = Forwarder(node, url), asyncio.Event()  # connects as the node (its nats.seed)
    limit = asyncio.get_running_loop().call_later(timeout, stop.set)  # cancelling it would not do
    t = time.perf_counter()
    await fwd.run(stop, once=True)
    fwd_rate = n / (time.perf_counter() - t)
    limit.cancel()
    fwd_count = await stream(url, operator) - before
    rows: list[tuple[int, str, bytes]] = []
    while chunk := node.envelopes.rows_after(rows[-1][0] if rows else 0, 10_000):
        rows += chunk
    size = sum(len(d) for _, _, d in rows) // max(len(rows), 1)
    raw, raw_count, nacks = await raw_publish(node, bus, rows, fwd.window, timeout)
    ratio = fwd_rate / raw
    fwd_note = f"{n:,} envelopes of ~{size} B; stream has {fwd_count:,}"
    raw_note = f"max pending {fwd.window:,}; stream has {raw_count:,}; nacks {nacks}"
    if bus.users:
        fwd_note, raw_note = f"as the node; {fwd_note}", f"as the operator; {raw_note}"
    return [  # a stream count other than the backlog shows MISS
        Row("Forwarder.run(once) backlog", fwd_rate, "events/s", "", _ok(fwd_count, n), fwd_note),
        Row("raw js.publish_async, same bytes", raw, "msgs/s", "", _ok(raw_count, n), raw_note),
        Row("forwarder / raw", ratio, "ratio", "≥ 0.70", ratio >= 0.70, f"failures {fwd.state.failures}"),
    ]


def _ok(count: int, expected: int) -> bool | None:
    return None if count == expected else False


def get(url: str, token: str | None = None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as r:
        return json.loads(r.read())


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return kids + [d for k in kids for d in descendants(k)]


def wait_for(check: Callable[[], bool], proc: Popen[bytes], timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"`tongxin node serve` exited ({proc.returncode}) before {what}")
        with contextlib.suppress(OSError):  # not listening yet
            if check():
                return time.monotonic() - t0
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def bench_serve(root: Path, bus: BenchNats, args: argparse.Namespace) -> list[Row]:
    """`tongxin node init` + `node serve` against the embedded NATS: RSS when idle, clean stop."""
    backlog, idle = args.serve_backlog, args.idle
    beside = Path(sys.executable).parent / "tongxin"
    exe = str(beside) if beside.exists() else shutil.which("tongxin") or "tongxin"
    d = root / "serve"
    init = ["node", "init", "--node-id", "bench", "--county-id", "jx"]
    opts = ["--data-dir", str(d), "--nats-url", bus.url]
    subprocess.run([exe, *init, *opts], check=True, capture_output=True)
    bus.allow(d)  # `node serve` connects as itself
    add = [exe, "node", "token", "add", "bench", "--data-dir", str(d)]
    made = subprocess.run(add, check=False, capture_output=True)
    token = made.stdout.decode().strip() if made.returncode == 0 else None  # a build without tokens: None
    node = NodeService(d)
    try:
        record_all(node, make_events(backlog), args.batch)
    finally:
        node.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(root / "serve.log", "wb") as log:
        cmd = [exe, "node", "serve", "--data-dir", str(d), "--port", str(port)]
        proc = Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        up = wait_for(lambda: get(base + "/health")["status"] == "ok", proc, 60, "/health")
        fwd = wait_for(lambda: get(base + "/api/v1/status", token)["waiting"] == 0, proc, 300, "waiting 0")
        time.sleep(idle)
        own = rss_kib(proc.pid)
        kids = descendants(proc.pid)
        total = own + sum(rss_kib(k) for k in kids)
        peak = rss_kib(proc.pid, "VmHWM")
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        rc, stop_s = proc.poll(), time.monotonic() - t
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    mib, all_mib = own / 1024, total / 1024
    note = f"forwarded {backlog:,} events, then {idle:.0f}s idle; peak VmHWM {peak / 1024:.1f} MiB"
    return [
        Row("node serve idle RSS (process)", mib, "MiB", "≤ 120", mib <= 120, note),
        Row("  + children", all_mib, "MiB", "≤ 120", all_mib <= 120, f"{len(kids)} child(ren)"),
        Row("  /health up, then backlog 0", up + fwd, "s", note=f"{up:.1f}s + {fwd:.1f}s"),
        Row("  SIGTERM → exit", stop_s, "s", "exit 0, ≤ 5 s", rc == 0 and stop_s <= 5, f"rc {rc}"),
    ]


def machine() -> dict[str, str]:
    nats_v = subprocess.run([find_binary(), "--version"], capture_output=True, text=True, check=False)
    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "nats-server": nats_v.stdout.strip().removeprefix("nats-server: "),
        "nats-py": version("nats-py"),
        "eventsourcing": version("eventsourcing"),
        "load at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),  # others share the cores
    }


def failed(step: str, exc: BaseException) -> Row:
    err.print(f"[red]{step} failed:[/] {exc!r}")
    err.print(traceback.format_exc(), markup=False, highlight=False)
    return Row(step, None, "", ok=False, note=f"error: {exc!r}"[:200])


STEPS: tuple[tuple[str, Callable[[Path, BenchNats, argparse.Namespace], list[Row]]], ...] = (
    ("batched append", bench_append),
    ("forwarding a backlog", bench_forward),
    ("idle `tongxin node serve`", bench_serve),
)


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tongxin-bench-") as tmp:
        bus = BenchNats(Path(tmp) / "nats", open_access=args.open_nats)
        try:
            bus.start()
            err.print(bus.describe())
            for i, (name, step) in enumerate(STEPS, 1):
                err.print(f"{i}/{len(STEPS)} {name}")
                try:
                    rows += step(Path(tmp), bus, args)
                except Exception as exc:  # report it, go on with the next step
                    rows.append(failed(name, exc))
        finally:
            bus.stop()
    return rows


def result(r: Row) -> dict[str, Any]:
    return {**asdict(r), "result": None if r.ok is None else "PASS" if r.ok else "MISS"}


def show(rows: list[Row], info: dict[str, str], console: Console, title: str = "Tongxin branch node") -> None:
    caption = " · ".join(f"{k} {v}" for k, v in info.items())
    table = Table(title=title, caption=caption)
    console.width = max(console.width, 150)  # not squeezed into 80 columns when piped
    for col in ("measurement", "value", "unit", "target", "result", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for r in rows:
        value = "—" if r.value is None else f"{r.value:,.{2 if r.value < 100 else 0}f}"
        result = "" if r.ok is None else "[green]PASS[/]" if r.ok else "[red]MISS[/]"
        table.add_row(r.name, value, r.unit, r.target, result, r.note)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.node", description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20_000, help="events to append (20,000)")
    ap.add_argument("--backlog", type=int, default=100_000, help="backlog to forward (100,000)")
    ap.add_argument("--batch", type=int, default=1_000, help="events per record() batch (1,000)")
    ap.add_argument("--serve-backlog", type=int, default=10_000, help="for node serve (10,000)")
    ap.add_argument("--idle", type=float, default=5.0, help="idle seconds before reading RSS (5)")
    ap.add_argument("--timeout", type=float, default=600.0, help="per forwarding run (600 s)")
    ap.add_argument("--open-nats", action="store_true", help=OPEN_HELP)
    ap.add_argument("--json", action="store_true", help="write the results as JSON to stdout")
    args = ap.parse_args(argv)
    info = machine()
    info["nats"] = "open (--open-nats)" if args.open_nats else "users (nodes as themselves)"
    rows = run(args)
    if args.json:
        show(rows, info, err)
        params = {k: v for k, v in vars(args).items() if k != "json"}
        out = {"machine": info, "params": params, "results": [result(r) for r in rows]}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        show(rows, info, Console())


if __name__ == "__main__":
    main()
