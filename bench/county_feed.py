"""Remote nodes, simulated: every envelope signed and published at its due time, as nodes on their
own machines would deliver it, without their logs and forwarders sharing this machine's 2 cores.
Each node publishes over a connection of its own, as itself (its `nats.seed`: on a server with
users it may publish on its own subject only).

Each chain has its node's key store (personal.db), and a registration's `personal` is sealed
there as the node would seal it before logging (`KeyStore.sealing`, one transaction per chain,
before the clock starts: on a remote node that is its own machine's work), so the county ingests
sealed events, as it does from real nodes.

`python -m bench.county_worker feed --dirs DIR,… --nats URL --count N --rate R --g0 G …` — event e
belongs to node e % k and is due at start + e / rate; it is signed then (recorded_at = now, the
node's key, its chain's seq and prev_hash) and published with its Msg-Id. Prints the CPU used and
when the last one was published.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from bench.county_latency import latency_item
from bench.county_mix import Item
from services.branch_node.application import NewEvent
from services.branch_node.config import NodeDir
from services.branch_node.inputs import parse_item
from services.branch_node.keystore import PERSONAL_FILE, KeyStore
from shared import envelope
from shared.catalog.member import MemberDetailsUpdated, MemberRegistered
from shared.transport import connect
from shared.wire import events_subject, msg_id


class _Chain:
    def __init__(self, path: Path) -> None:
        d = NodeDir(path)
        self.config, self.signer, self.keys = d.config(), d.signer(), KeyStore(d.path / PERSONAL_FILE)
        self.identity = d.nats_identity()
        self.seq, self.prev_hash = 0, envelope.GENESIS_HASH
        self.subject = events_subject(self.config.county_id, self.config.node_id)

    def seal_all(self, events: list[NewEvent]) -> list[NewEvent]:
        """Every clear `personal` sealed under its member's key, the keys kept in the chain's
        personal.db (one transaction), as `NodeService.record` does before it logs."""
        out = []
        with self.keys.sealing() as (_, sealer):
            for ev in events:
                body = ev.body
                personal = getattr(body, "personal", None)
                if isinstance(body, MemberRegistered | MemberDetailsUpdated) and personal is not None:
                    sealed = sealer.seal(body.member_id, personal)
                    body = msgspec.structs.replace(body, personal=sealed)
                out.append(dataclasses.replace(ev, body=body))
        return out

    def sign(self, ev: NewEvent) -> tuple[str, str, bytes]:
        self.seq += 1
        env = envelope.sign(
            node_id=self.config.node_id,
            seq=self.seq,
            event_id=str(ev.event_id),
            body=ev.body,
            occurred_at=ev.occurred_at,
            recorded_at=datetime.now(UTC),
            prev_hash=self.prev_hash,
            signer=self.signer,
        )
        self.prev_hash = env.hash
        return self.subject, msg_id(self.config.node_id, self.seq, env.hash), envelope.encode(env)


def feed_process(args: Any) -> None:
    """Node j's i-th event is `latency_item(i, args.g0 + j·per, …)`, as in the node processes."""
    chains = [_Chain(Path(p)) for p in args.dirs.split(",")]
    k, per = len(chains), -(-args.count // len(chains))
    mine: list[list[NewEvent]] = [[] for _ in chains]
    for e in range(args.count):
        j, i = e % k, e // k
        raw: Item = latency_item(i, args.g0 + j * per, chains[j].config.node_id, args.villages)
        mine[j].append(parse_item(raw, chains[j].keys))
    sealed = [iter(c.seal_all(evs)) for c, evs in zip(chains, mine, strict=True)]
    due = [(chains[e % k], next(sealed[e % k])) for e in range(args.count)]
    cpu = time.process_time()
    last = asyncio.run(_publish(args, due))
    print(f"{time.process_time() - cpu:.3f} {last:.6f}", flush=True)


async def _publish(args: Any, due: list[tuple[_Chain, NewEvent]]) -> float:
    chains = list(dict.fromkeys(chain for chain, _ in due))
    conns = [await connect(args.nats, identity=c.identity) for c in chains]
    try:
        js = {c: nc.jetstream(publish_async_max_pending=10_000) for c, nc in zip(chains, conns, strict=True)}
        for e, (chain, ev) in enumerate(due):
            delay = args.start + e / args.rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            subject, mid, data = chain.sign(ev)
            await js[chain].publish_async(subject, data, headers={"Nats-Msg-Id": mid})
        last = time.time()
        for j in js.values():
            await j.publish_async_completed()
        return last
    finally:
        for nc in conns:
            await nc.close()
