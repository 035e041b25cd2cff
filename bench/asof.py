"""Point in time at scale: `as_of` roster queries for one township, and full replay, over a large archive.

    python -m bench.asof [--db sqlite|postgresql|URL] [--members 10000] [--others 5000]
                         [--events 1000000] [--nodes 20] [--queries 200] [--no-replay] [--json]

Measures and prints; never asserts. Everything goes through the real path: request items parsed
as the node API parses them, recorded and signed by real branch nodes (`NodeService.record`), then
ingested by the county's `Ingestor` (verify → archive → project, batches of 500) with explicit
arrival times. No row is bulk-copied: the archive, `member_timeline` and every projection are
what ingest wrote.

The county: 4 townships; the measured one, `town-a`, has 20 village branches and `--members`
members, the other three `--others` between them. Each member is registered by one of `--nodes`
outstation nodes and then lives a life there (moves, contact lost/restored, returns,
transfers out, detail updates, study accounts, cross posts: ~3.4 events each, business times
2024-01 … 2026-11). The rest of `--events` are the outstations' facts: orglife (8 attendees),
training (12), funds, disputes, services, placements. Each node's envelopes arrive in seq
order, 1–120 minutes after they occurred, 3 % of them 1–10 days late.

Queries run in-process through the FastAPI app (`TestClient`), as an analyst with a bearer token
(the API answers only a signed-in role; `bench/accounts.py`), D uniform over 2024-06 … 2026-11:
the township roster counts (`GET /api/v1/roster?township=town-a&as_of=D`, the p95 ≤ 200 ms
target), a members page (limit 100), the township CSV, and the live (no `as_of`) counts; alerts;
the figures (funds by month, pioneer by township, education by org, live; education as of D).
With `--db URL --reuse` the queries run against an archive an earlier run built there (to compare
two versions of the code on one archive: build once, then run each with `--reuse --no-replay`).
Replay: `audit.replay.build` of the whole archive (and of half of it by arrival) into a
temporary SQLite file; events/s, and whether the full replay's digest equals the live one.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, func, select

from bench.accounts import account
from bench.node import id_number, machine, member_of, new_node
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from services.county.api.app import create_app
from services.county.audit.replay import Bounds, build
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.projections import figures, roster
from services.county.projections.digest import digest
from services.county.registry import enrol
from shared import envelope
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.wire import events_subject
from tests.ids import GIVEN

err = Console(stderr=True)
START, END = (
    datetime(2024, 1, 1, tzinfo=CHINA_STANDARD_TIME),
    datetime(2026, 11, 20, tzinfo=CHINA_STANDARD_TIME),
)
Item = dict[str, Any]


def when(rng: random.Random, after: datetime = START) -> datetime:
    return after + (END - after) * rng.random()


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def org_tree(nodes: list[str]) -> list[tuple[datetime, Item]]:
    def org(
        org_id: str, name: str, kind: str, parent: str | None = None, **more: Any
    ) -> tuple[datetime, Item]:
        payload = {"org_id": org_id, "name": name, "kind": kind, "parent_id": parent, **more}
        return datetime(2023, 12, 1, 9, tzinfo=CHINA_STANDARD_TIME), {
            "type": "org.registered",
            "payload": payload,
        }

    out = [org("county", "县委", "county_committee")]
    for tw in "abcd":
        out.append(org(f"town-{tw}", f"{tw}乡镇党委", "township_committee", "county"))
        villages = 20 if tw == "a" else 10
        out += [
            org(f"vil-{tw}{v:02d}", f"{tw}{v}村党支部", "village_branch", f"town-{tw}")
            for v in range(villages)
        ]
    out += [
        org(n, f"驻{n}服务站", "outstation", "county", mode="service_station", host_location="广东东莞")
        for n in nodes
    ]
    return out


def member_life(
    rng: random.Random, g: int, node: str, nodes: list[str], branch: str
) -> list[tuple[datetime, Item]]:
    """A member's registration and later events, valid for the node's state machine."""
    mid = member_of(g)
    moment = START + (END - START) * rng.random() * 0.95
    person = {"name": f"成员{g:05d}", "id_number": id_number(g)}
    reg = {
        "member_id": mid,
        "personal": person,
        "home_branch": branch,
        "outstation": node,
        "host_location": "广东东莞",
    }
    reg |= {"occupation": "务工", "flowed_out_on": "2019-03-01"}
    out = [(moment, {"type": "member.registered", "payload": reg})]
    status = "out"
    for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4, 5))):
        moment = when(rng, moment) if rng.random() < 0.3 else moment + timedelta(days=rng.uniform(1, 60))
        if moment >= END:
            break
        choices = ["details", "study", "post", "moved"]
        choices += {"out": ["contact_lost", "returned", "transferred"], "contact_lost": ["restored"]}.get(
            status, []
        )
        kind = rng.choice(choices)
        p: Item = {"member_id": mid}
        if kind == "details":
            item = {
                "type": "member.details_updated",
                "payload": p | {"occupation": rng.choice(("电工", "厨师", "司机"))},
            }
        elif kind == "study":
            item = {"type": "member.study_account_opened", "payload": p | {"account": f"acc{g}"}}
        elif kind == "post":
            post = {"org_id": rng.choice(nodes), "post": "支部委员"}
            item = {"type": "post.cross_assigned", "payload": p | post}
        elif kind == "moved":
            item = {
                "type": "member.moved",
                "payload": p | {"outstation": node, "host_location": rng.choice(("广东东莞", "广东花都"))},
            }
            status = "out"
        elif kind == "contact_lost":
            item, status = {"type": "member.contact_lost", "payload": p}, "contact_lost"
        elif kind == "restored":
            item, status = {"type": "member.contact_restored", "payload": p}, "out"
        elif kind == "returned":
            item, status = {"type": "member.returned", "payload": p}, "returned"
        else:
            out.append((moment, {"type": "member.transferred_out", "payload": p | {"to_org": "外县党支部"}}))
            break
        out.append((moment, item))
    return out


def fact(rng: random.Random, node: str, attendees: list[str]) -> tuple[datetime, Item]:
    org = {"org_id": node}
    r = rng.random()
    if r < 0.3:
        body = {
            "type": "orglife.held",
            "payload": org
            | {
                "kind": "branch_meeting",
                "topic": "学习",
                "attendees": rng.sample(attendees, min(8, len(attendees))),
            },
        }
    elif r < 0.45:
        body = {
            "type": "training.held",
            "payload": org
            | {
                "mode": "cloud",
                "title": "云党课",
                "attendees": rng.sample(attendees, min(12, len(attendees))),
            },
        }
    elif r < 0.65:
        source = rng.choice(("fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy"))
        body = {
            "type": "fund.received",
            "payload": org | {"source": source, "amount_fen": rng.randint(100, 10**6)},
        }
    elif r < 0.8:
        body = {
            "type": "dispute.mediated",
            "payload": org
            | {"category": "wages", "outcome": "resolved", "recovered_fen": rng.randint(0, 10**6)},
        }
    elif r < 0.92:
        body = {"type": "service.provided", "payload": org | {"line": "legal", "people": rng.randint(1, 30)}}
    else:
        body = {"type": "jobs.placed", "payload": org | {"people": rng.randint(1, 50)}}
    return when(rng), body


def plan(args: argparse.Namespace, nodes: list[str]) -> dict[str, list[tuple[datetime, Item]]]:
    rng = random.Random(7)
    by_node: dict[str, list[tuple[datetime, Item]]] = {n: [] for n in nodes}
    members: dict[str, list[str]] = {n: [] for n in nodes}
    for g in range(args.members + args.others):
        node = nodes[g % len(nodes)]
        branch = f"vil-a{g % 20:02d}" if g < args.members else f"vil-{'bcd'[g % 3]}{g % 10:02d}"
        by_node[node] += member_life(rng, g, node, nodes, branch)
        members[node].append(member_of(g))
    total = sum(map(len, by_node.values())) + len(org_tree(nodes))
    for k in range(max(0, args.events - total)):
        node = nodes[k % len(nodes)]
        by_node[node].append(fact(rng, node, members[node]))
    for items in by_node.values():
        items.sort(key=lambda x: x[0])  # a node records what happens as it happens
    return by_node


@contextlib.contextmanager
def database(kind: str, root: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{root / 'county.db'}"
    elif kind == "postgresql":
        from tests.conftest import postgres_database

        with postgres_database() as url:
            yield url
    else:
        yield kind


def bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def record_and_ingest(engine: Engine, root: Path, args: argparse.Namespace) -> dict[str, float]:
    nodes = [f"os-{k:02d}" for k in range(1, args.nodes + 1)]
    by_node = plan(args, nodes)
    opened = {n: new_node(root / n, n) for n in ["county", *nodes]}
    with engine.begin() as conn:  # the node "county" records the tree: the county office's (authority)
        for node in opened.values():
            enrol(conn, node.node_id, node.signer.public_key_hex, office=node.node_id == "county")
    planned = sum(map(len, by_node.values())) + len(org_tree(nodes))
    rec = ing = 0.0
    ingestor = Ingestor(engine, "jx")
    rng = random.Random(11)
    with bar() as progress:
        task = progress.add_task("record + ingest", total=planned)
        for node_id, items in [("county", org_tree(nodes)), *by_node.items()]:
            node = opened[node_id]
            t0 = time.perf_counter()
            for s in range(0, len(items), 1000):
                node.record([parse_item({"occurred_at": iso(m), **i}, GIVEN) for m, i in items[s : s + 1000]])
            rec += time.perf_counter() - t0
            ing += ingest(ingestor, node, rng)
            progress.advance(task, len(items))
            node.close()
    return {"record_s": rec, "ingest_s": ing, "events": planned}


def ingest(ingestor: Ingestor, node: NodeService, rng: random.Random) -> float:
    subject = events_subject("jx", node.node_id)
    last = ""
    took, seq = 0.0, 0
    while batch := node.envelopes.after(seq, 500):
        items = []
        for seq, data in batch:  # noqa: B007 (seq: the cursor for the next batch)
            occurred = envelope.decode(data).occurred
            late = (
                timedelta(days=rng.uniform(1, 10))
                if rng.random() < 0.03
                else timedelta(minutes=rng.uniform(1, 120))
            )
            last = max(last, envelope.format_time(occurred + late))
            items.append(Incoming(data, subject, last))
        t0 = time.perf_counter()
        outcomes = ingestor.process(items)
        took += time.perf_counter() - t0
        assert set(outcomes) == {"archived"}, set(outcomes)
    return took


def timed(client: TestClient, url: str, runs: int, params: Any) -> list[float]:
    out = []
    for k in range(runs):
        t0 = time.perf_counter()
        response = client.get(url, params=params(k))
        out.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.text
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def queries(engine: Engine, args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(3)
    span = (date(2026, 11, 20) - date(2024, 6, 1)).days
    days = [(date(2024, 6, 1) + timedelta(days=rng.randrange(span))).isoformat() for _ in range(args.queries)]
    client = TestClient(create_app(engine), headers=account(engine).bearer)
    town = {"township": "town-a"}
    cases = [
        ("as_of roster counts, town-a", "/api/v1/roster", args.queries, lambda k: town | {"as_of": days[k]}),
        ("live roster counts, town-a", "/api/v1/roster", args.queries, lambda k: town),
        (
            "as_of members page (100), town-a",
            "/api/v1/roster/members",
            args.queries,
            lambda k: town | {"as_of": days[k]},
        ),
        (
            "as_of CSV, town-a",
            "/api/v1/roster/members.csv",
            max(5, args.queries // 20),
            lambda k: town | {"as_of": days[k]},
        ),
        ("live CSV, town-a", "/api/v1/roster/members.csv", max(5, args.queries // 20), lambda k: town),
        (
            "as_of alerts, town-a",
            "/api/v1/alerts",
            max(5, args.queries // 20),
            lambda k: town | {"as_of": days[k]},
        ),
        ("live alerts, town-a", "/api/v1/alerts", max(5, args.queries // 20), lambda k: town),
        ("live members page (100), town-a", "/api/v1/roster/members", args.queries, lambda k: town),
        ("live funds by month", "/api/v1/figures/funds", args.queries, lambda k: {"group_by": "month"}),
        (
            "live pioneer by township",
            "/api/v1/figures/pioneer",
            args.queries,
            lambda k: {"group_by": "township"},
        ),
        ("live education by org", "/api/v1/figures/education", args.queries, lambda k: {"group_by": "org"}),
        (
            "as_of education, town-a",
            "/api/v1/figures/education",
            max(5, args.queries // 20),
            lambda k: town | {"as_of": days[k]},
        ),
    ]
    rows = []
    for name, url, runs, params in cases:
        timed(client, url, 3, params)  # warm up
        ms = timed(client, url, runs, params)
        rows.append(
            {"name": name, "runs": runs, "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": max(ms)}
        )
    sample = client.get("/api/v1/roster", params=town | {"as_of": "2026-06-30"}).json()
    rows.append(
        {
            "name": "town-a members as of 2026-06-30",
            "value": sample["total"],
            "by_status": sample["by_status"],
        }
    )
    return rows


def _advance(progress: Progress, task: TaskID, done: int, total: int) -> None:
    progress.update(task, completed=done, total=total)


def replays(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        live = digest(conn)
        received = sorted(conn.execute(select(t.archive.c.received_at)).scalars())
    out = []
    for name, bounds in (
        ("full replay", Bounds()),
        ("replay known_at = median arrival", Bounds(known_at=received[len(received) // 2])),
    ):
        with bar() as progress:
            task = progress.add_task(name, total=len(received))
            t0 = time.perf_counter()
            step = functools.partial(_advance, progress, task)
            scratch = build(engine, bounds, progress=step)
            took = time.perf_counter() - t0
        result = scratch.result
        scratch.close()
        row = {
            "name": name,
            "seconds": took,
            "replayed": result.replayed,
            "events_per_s": result.replayed / took,
        }
        if bounds == Bounds():
            row["digest_equals_live"] = result.digest == live
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql (a temporary database) or a URL")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-replay", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="with a URL: measure an archive built by an earlier run"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-asof-") as tmp, database(args.db, Path(tmp)) as url:
        engine = make_engine(url)
        migrate(engine)
        started = datetime.now(UTC)
        with engine.connect() as conn:
            archived = conn.execute(select(func.count()).select_from(t.archive)).scalar_one()
        if args.reuse and archived:
            built: dict[str, float] = {"events": archived}
        else:
            built = record_and_ingest(engine, Path(tmp), args)
        if engine.dialect.name == "postgresql":  # as autovacuum would (the test server runs without it)
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        with engine.connect() as conn:
            sizes = {
                tb.name: int(conn.execute(select(func.count()).select_from(tb)).scalar_one())
                for tb in (t.archive, roster.members, roster.member_timeline, figures.facts)
            }
        results = {
            "machine": machine(),
            "params": vars(args) | {"started": started.isoformat()},
            "build": built
            | (
                {
                    "record_events_per_s": built["events"] / built["record_s"],
                    "ingest_events_per_s": built["events"] / built["ingest_s"],
                }
                if "record_s" in built
                else {}
            ),
            "sizes": sizes,
            "queries": queries(engine, args),
            "replay": [] if args.no_replay else replays(engine),
        }
        engine.dispose()
    show(results)
    if args.json:
        sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=1) + "\n")


def show(results: dict[str, Any]) -> None:
    err.print(f"machine {results['machine']}", highlight=False)
    err.print(f"built: {results['build']}", highlight=False)
    err.print(f"rows: {results['sizes']}", highlight=False)
    table = Table("query", "runs", "p50 ms", "p95 ms", "max ms")
    for q in results["queries"]:
        if "runs" in q:
            table.add_row(
                q["name"], str(q["runs"]), f"{q['p50_ms']:.1f}", f"{q['p95_ms']:.1f}", f"{q['max_ms']:.1f}"
            )
        else:
            table.add_row(q["name"], "", str(q["value"]), json.dumps(q["by_status"]), "")
    err.print(table)
    for r in results["replay"]:
        err.print(
            f"{r['name']}: {r['replayed']} events in {r['seconds']:.1f} s = {r['events_per_s']:.0f} events/s"
            + (f"; digest equals live: {r['digest_equals_live']}" if "digest_equals_live" in r else "")
        )


if __name__ == "__main__":
    main()
