"""`tongxin demo`: start the county, load its history through the nodes, keep it alive."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.service import NodeService
from services.county.db.engine import make_engine, migrate
from services.county.keys import load_or_create
from services.county.registry import enrol
from shared.nats_access import AccessDir
from tongxin.demo import clerks
from tongxin.demo.accounts import ACCOUNTS_FILE, ensure_accounts, operator_token
from tongxin.demo.county import COUNTY_ID, NODES, OFFICE_NODE, SPEAKS_FOR
from tongxin.demo.history import History, build
from tongxin.demo.live import Live
from tongxin.demo.org_tree import load_tree
from tongxin.demo.state import DemoState, lock
from tongxin.demo.supervisor import Child, DemoError, Supervisor, http_json
from tongxin.natsd import EmbeddedNats, ensure_stream, free_port, free_ports, port_open

BATCH = 500
Say = Callable[[str], None]
Progress = Callable[[str, int, int], None]
"""(what, done, total) — called as work advances."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("tongxin-demo")
    seed: int = 2026
    members: int = 3000
    rate: float = 2.0
    host: str = "127.0.0.1"
    port: int = 8700
    """The county's port; node i listens on port + 10 + i. 0: free ports."""
    offline_every: float = 90.0
    offline_for: float = 30.0
    duration: float | None = None
    """Stop after this many seconds of live simulation (None: until Ctrl-C)."""


class Demo:
    def __init__(self, settings: Settings, say: Say, progress: Progress) -> None:
        self.s = settings
        self.say = say
        self.progress = progress
        self.sup = Supervisor()
        self.lock = lock(settings.data_dir)
        self.ports = _ports(settings)
        self.nats = EmbeddedNats(settings.data_dir / "nats", settings.host, self.ports.pop("nats"))
        self.state = DemoState.open(settings.data_dir, settings.seed, settings.members, date.today())
        self.began = time.monotonic()
        self.clerk_password = clerks.new_password()
        self.tokens: dict[str, str] = {}
        """Each node's bearer token for the demo's own requests, made at start."""

    def url(self, name: str) -> str:
        return f"http://{self.s.host}:{self.ports[name]}"

    def run(self) -> None:
        try:
            self.start()
            history = build(
                self.state.seed,
                self.state.members,
                date.fromisoformat(self.state.end),
            )
            self.load(history)
            self.say_ready()
            self.live(history)
        finally:
            self.say("stopping…")
            self.sup.stop_all()
            self.nats.stop()
            self.say("stopped")

    def start(self) -> None:
        started = time.monotonic()
        nats_url = self.nats.start()
        asyncio.run(ensure_stream(nats_url, identity=self.nats.identity("operator")))
        data = self.s.data_dir
        county_key = load_or_create(data / "county.key")
        db_url = f"sqlite:///{data / 'county.db'}"
        engine = make_engine(db_url)
        migrate(engine)
        with engine.begin() as conn:
            for node_id in NODES:
                enrol(
                    conn,
                    node_id,
                    self._node_key(node_id, nats_url, county_key.public_key_hex),
                    org_ids=SPEAKS_FOR.get(node_id, [node_id]),
                    office=node_id == OFFICE_NODE,
                )
        load_tree(engine, data)  # as `tongxin county load-orgs` would: the pages show names
        self.accounts = ensure_accounts(engine, data)
        self.county_token = operator_token(engine)
        engine.dispose()
        self._allow_nodes()
        self.tokens = clerks.prepare(
            {n: data / "nodes" / n for n in NODES}, self.clerk_password
        )  # before the nodes start: a session of a previous run has ended anyway
        self.sup.start(
            Child(
                "county",
                [
                    "county",
                    "serve",
                    "--county-id",
                    COUNTY_ID,
                    "--db",
                    db_url,
                    "--nats",
                    nats_url,
                    "--host",
                    self.s.host,
                    "--port",
                    str(self.ports["county"]),
                    "--county-key",
                    str(data / "county.key"),
                    "--nats-seed",
                    str(self.access.seed_path("county")),
                ],
                data / "logs" / "county.log",
                f"{self.url('county')}/health",
            )
        )
        for node_id in NODES:
            self.sup.start(
                Child(
                    node_id,
                    self._node_args(node_id, nats_url),
                    data / "logs" / f"{node_id}.log",
                    f"{self.url(node_id)}/health",
                )
            )
        self.say(f"starting NATS ({nats_url}), the county and {len(NODES)} branch nodes…")
        self.sup.wait_ready(["county", *NODES])
        self.say(f"all up in {time.monotonic() - started:.1f} s")

    @property
    def access(self) -> AccessDir:
        assert self.nats.access is not None  # the demo runs NATS with users, as production does
        return self.nats.access

    def _allow_nodes(self) -> None:
        """Let each node connect to NATS as itself, with a node's permissions only (as enrolment
        with `--nats-key` does); the keys are already allowed on a resumed demo."""
        allowed = self.access.nodes()
        for node_id in NODES:
            key = NodeDir(self.s.data_dir / "nodes" / node_id).ensure_nats_key()
            if node_id not in allowed or allowed[node_id].key != key:
                self.nats.allow_node(COUNTY_ID, node_id, key)

    def _node_key(self, node_id: str, nats_url: str, county_public_key: str) -> str:
        node_dir = NodeDir(self.s.data_dir / "nodes" / node_id)
        if not node_dir.exists():
            config = NodeConfig(
                node_id=node_id, county_id=COUNTY_ID, nats_url=nats_url, county_public_key=county_public_key
            )
            node_dir.create(config)
            NodeService(node_dir.path).close()
        return node_dir.signer().public_key_hex

    def _node_args(self, node_id: str, nats_url: str) -> list[str]:
        return [
            "node",
            "serve",
            "--data-dir",
            str(self.s.data_dir / "nodes" / node_id),
            "--host",
            self.s.host,
            "--port",
            str(self.ports[node_id]),
            "--nats",
            nats_url,
        ]

    def load(self, history: History) -> None:
        """Record what each node has not recorded yet (a resumed demo skips what it has), then
        wait until the county has archived every node's log."""
        started = time.monotonic()
        todo = {}
        for node_id in NODES:
            have = self._last_seq(node_id)
            todo[node_id] = history.items.get(node_id, [])[have:]
        total, done = sum(len(v) for v in todo.values()), 0
        with ThreadPoolExecutor(4) as pool:
            jobs = [pool.submit(self._post_all, node_id, items) for node_id, items in todo.items()]
            for job in jobs:
                done += job.result()
                self.progress("recording history at the nodes", done, total)
        heads = {n: self._last_seq(n) for n in NODES}
        self._wait_archived(heads)
        if total:
            self.say(
                f"recorded {total} events of history and the county archived them "
                f"in {time.monotonic() - started:.1f} s"
            )

    def _last_seq(self, node_id: str) -> int:
        return int(http_json(f"{self.url(node_id)}/api/v1/status", token=self.tokens[node_id])["last_seq"])

    def _post_all(self, node_id: str, items: list[dict[str, object]]) -> int:
        for i in range(0, len(items), BATCH):
            batch = {"events": items[i : i + BATCH]}
            http_json(f"{self.url(node_id)}/api/v1/events/batch", batch, token=self.tokens[node_id])
        return len(items)

    def _wait_archived(self, heads: dict[str, int], timeout: float = 300.0) -> None:
        total = sum(heads.values())
        deadline = time.monotonic() + timeout
        while True:
            found = http_json(f"{self.url('county')}/api/v1/nodes", token=self.county_token)
            health = {n["node_id"]: n for n in found["items"]}
            archived = sum(min(health.get(n, {}).get("last_seq") or 0, seq) for n, seq in heads.items())
            self.progress("archived at the county", archived, total)
            if archived >= total:
                return
            self.sup.check()
            if time.monotonic() > deadline:
                raise DemoError(
                    f"the county archived {archived} of {total} events within {timeout:.0f} s; "
                    f"see {self.s.data_dir / 'logs'}"
                )
            time.sleep(0.5)

    def say_ready(self) -> None:
        took = time.monotonic() - self.began
        self.say(
            f"\nTongxin demo ready in {took:.1f} s — the county of {len(NODES) - 1} outstations, live.\n"
        )
        self.say(f"  County dashboard   {self.url('county')}/   sign in as one of:")
        for account in self.accounts:
            self.say(f"      {account.line()}")
        self.say(f"    (kept in {self.s.data_dir / ACCOUNTS_FILE}; add your own: tongxin county user add)")
        self.say(f"  County API         {self.url('county')}/docs   (scripts: tongxin county user token)")
        for node_id in NODES:
            self.say(f"  node {node_id:<14} {self.url(node_id)}/   clerk password {self.clerk_password}")
        self.say("  (each node's page asks for it: 密码; a new one every run)")
        self.say(
            f"\n  NATS {self.nats.url}: no anonymous access; each node connects with its own key "
            f"({len(NODES)} allowed, {self.access.users_file}), the operator with "
            f"{self.access.seed_path('operator')}"
        )
        self.say(f"\nData and logs in {self.s.data_dir}/ (a second run resumes). Ctrl-C stops everything.\n")

    def live(self, history: History) -> None:
        rng = random.Random(self.state.seed * 7919 + self.state.live_registered)
        sim = Live(
            rng,
            history.members,
            self.state.members + self.state.live_registered,
        )
        started = last_offline = time.monotonic()
        offline: tuple[str, float] | None = None
        while self.s.duration is None or time.monotonic() - started < self.s.duration:
            self.sup.check()
            now = time.monotonic()
            if offline and now >= offline[1]:
                self._reconnect(offline[0])
                offline, last_offline = None, now
            elif offline is None and self.s.offline_every > 0 and now - last_offline >= self.s.offline_every:
                offline = (self._disconnect(rng, sim), now + self.s.offline_for)
            if self.s.rate > 0:
                node_id, item = sim.next(datetime.now(UTC))
                self._post_live(node_id, item)
                self.state.live_registered = sim.index - self.state.members
                time.sleep(1 / self.s.rate)
            else:
                time.sleep(0.5)
        self.state.save(self.s.data_dir)

    def _post_live(self, node_id: str, item: dict[str, object]) -> None:
        try:
            http_json(f"{self.url(node_id)}/api/v1/events", item, timeout=5, token=self.tokens[node_id])
        except (DemoError, OSError) as exc:  # refused or the node is restarting: the county lives on
            self.say(f"  live event at {node_id} not recorded: {exc}")

    def _disconnect(self, rng: random.Random, sim: Live) -> str:
        node_id = rng.choice(NODES[1:])
        dead = f"nats://{self.s.host}:{free_port(self.s.host)}"
        self.sup.restart(node_id, self._node_args(node_id, dead))
        self.sup.wait_ready([node_id])
        self._post_live(node_id, sim.backdated(node_id, datetime.now(UTC)))
        self.say(f"  node {node_id} offline for {self.s.offline_for:.0f} s: it records, the county waits")
        return node_id

    def _reconnect(self, node_id: str) -> None:
        self.sup.restart(node_id, self._node_args(node_id, self.nats.url))
        self.sup.wait_ready([node_id])
        self.say(f"  node {node_id} back online: catching up")


def _ports(s: Settings) -> dict[str, int]:
    """County, nodes and NATS: from --port up (NATS on a free port), or all distinct free ports."""
    names = ["county", *NODES]
    if s.port == 0:
        return dict(zip([*names, "nats"], free_ports(len(names) + 1, s.host), strict=True))
    ports = {name: s.port + (0 if i == 0 else 9 + i) for i, name in enumerate(names)}
    taken = [f"{name} ({port})" for name, port in ports.items() if port_open(s.host, port)]
    if taken:
        raise DemoError(f"ports already in use: {', '.join(taken)}; choose another --port (or --port 0)")
    return {**ports, "nats": free_port(s.host)}
