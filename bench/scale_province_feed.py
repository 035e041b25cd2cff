"""bench.scale_province's simulated nodes: N chains of E events, sealed once, signed for every county
and published into that county's stream under its subjects.

Each node is a `county_feed._Chain` (its key and key store, no log): its items
(`county_mix.e2e_items`; the first node is the county office's and records the organisation tree
first, so the other events project) are parsed as the API parses them and their registrations
sealed as the node seals them, once. Every county then gets its own signing of those events —
seq 1.., prev_hash chained, recorded_at = now, the same node keys (each county enrols them at the
province on its own) — published on `tongxin.<county>.events.<node>` with its Msg-Id.

Why not one signing published into every county: an envelope does not name its county, so its
Msg-Id (`<node>:<seq>:<hash>`) would be the same in every county, and TONGXIN_PROVINCE, which keeps
the Msg-Id of what it sources, drops all but the first copy as a duplicate within its window (7
days): a first run of this bench copied one county's 1,050 messages of 3,150. Real counties never
share a hash (it covers the event's random id and its recording time), and a county cannot learn
another's in advance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.county_feed import _Chain
from bench.county_mix import COUNTY, e2e_items, node_ids, preamble
from services.branch_node.application import NewEvent
from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.inputs import parse_item
from shared import envelope
from shared.transport import connect
from shared.wire import events_subject


@dataclass
class Feed:
    """N nodes' sealed events, their keys, and what one county's set adds up to."""

    chains: list[tuple[_Chain, list[NewEvent]]] = field(default_factory=list)
    registrations: int = 0
    """member.registered events in one county's set."""
    funds_fen: int = 0
    """The sum of fund.received amounts in one county's set."""
    signing: float = 0.0
    """CPU seconds this process spent signing (every county's)."""

    @property
    def keys(self) -> dict[str, str]:
        """node id → its Ed25519 public key (hex), for the province's enrolment."""
        return {c.config.node_id: c.signer.public_key_hex for c, _ in self.chains}

    @property
    def office(self) -> str:
        return self.chains[0][0].config.node_id

    def __len__(self) -> int:
        return sum(len(evs) for _, evs in self.chains)

    def signed(self, county_id: str) -> list[tuple[str, str, bytes]]:
        """This county's signing of every chain: (subject, Msg-Id, bytes), node after node."""
        cpu, out = time.process_time(), []
        for chain, events in self.chains:
            chain.seq, chain.prev_hash = 0, envelope.GENESIS_HASH
            subject = events_subject(county_id, chain.config.node_id)
            out += [(subject, *chain.sign(ev)[1:]) for ev in events]
        self.signing += time.process_time() - cpu
        return out

    def close(self) -> None:
        for chain, _ in self.chains:
            chain.keys.close()


def smallest_events(nodes: int, villages: int) -> int:
    """The fewest events a node may have: the office's node records the org tree first."""
    return len(preamble(villages, nodes)) + 1


def make_feed(root: Path, nodes: int, events: int, villages: int) -> Feed:
    """Node k's items are `e2e_items(k, …)`, parsed and sealed in the node's key store (not timed)."""
    feed = Feed()
    for k, node_id in enumerate(node_ids(nodes)):
        path = root / node_id
        NodeDir(path).create(NodeConfig(node_id=node_id, county_id=COUNTY, nats_url="nats://127.0.0.1:4222"))
        chain = _Chain(path)
        items = e2e_items(k, events, nodes, villages)
        feed.registrations += sum(1 for x in items if x["type"] == "member.registered")
        feed.funds_fen += sum(x["payload"]["amount_fen"] for x in items if x["type"] == "fund.received")
        feed.chains.append((chain, chain.seal_all([parse_item(x, chain.keys) for x in items])))
    return feed


async def publish_all(urls: dict[str, str], feed: Feed, window: int = 4000) -> float:
    """Every county's signing of the feed into its own server (open: ProvinceServers' county
    servers have no users), publish_async with Msg-Ids; returns the seconds it took."""
    t0 = time.perf_counter()
    for county_id, url in urls.items():
        nc = await connect(url, pending_size=64 * 1024 * 1024)
        try:
            js = nc.jetstream(publish_async_max_pending=window)
            for subject, mid, data in feed.signed(county_id):
                await js.publish_async(subject, data, headers={"Nats-Msg-Id": mid})
            await js.publish_async_completed()
        finally:
            await nc.close()
    return time.perf_counter() - t0
