"""An ingest worker's gap watcher asks only its own nodes to re-send (`GapWatcher.owns`): a gap of
a node another worker owns is that worker's to ask for, and its backlog in the stream is no gap."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from services.county.ingest.partitions import Share
from services.county.ingest.processor import Ingestor
from services.county.repair.gaps import GapWatcher
from shared.signing import Signer
from shared.wire import requests_subject
from tests.county.authority_scenario import Chain, fund
from tests.county.helpers import feed
from tests.county.test_ingest_workers import enrol_all, three_nodes


def test_each_worker_asks_for_the_gaps_of_its_own_nodes_only(county_engine: Engine) -> None:
    nodes = three_nodes()
    chains = {n: Chain(n) for n in nodes}
    for chain in chains.values():
        for i in range(3):
            fund(chain, 1 + i, chain.node_id, 100 + i)
    enrol_all(county_engine, chains)
    feed(Ingestor(county_engine, "jx"), [c.envelopes[2] for c in chains.values()])  # seq 3: held
    everyone = GapWatcher(county_engine, "jx", Signer.generate(), grace=0.0)
    assert everyone.find({}) == dict.fromkeys(nodes, (1, 2))
    asked: dict[int, list[str]] = {}
    for w in range(2):
        watcher = GapWatcher(county_engine, "jx", Signer.generate(), grace=0.0)
        share = Share(w, 2)
        mine = set(share.nodes(county_engine))  # the nodes' slots, read as a worker reads them
        assert mine and mine < set(nodes)
        watcher.owns = share.owns
        assert set(watcher.find({})) == mine
        requests: list[str] = []

        async def publish(subject: str, data: bytes, into: list[str] = requests) -> None:
            into.append(subject)

        asyncio.run(watcher.check(publish))
        asked[w] = sorted(requests)
    assert sorted(asked[0] + asked[1]) == sorted(requests_subject("jx", n) for n in nodes)
    assert not set(asked[0]) & set(asked[1]), "no node asked twice"
