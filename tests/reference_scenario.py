"""A county with its organisation tree loaded and two nodes: huadu registered 王小明 and 李四 and
moved 王小明 to dongguan (so dongguan co-manages him, registered elsewhere); the county ingests it
all, holds the members' keys, and publishes the reference data onto a real NATS server."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from services.county.db.engine import make_engine, migrate
from services.county.ingest.processor import Ingestor
from services.county.keys import CountySigning
from services.county.reference.org_sheet import HEADERS
from services.county.reference.publish import ReferencePublisher
from services.county.reference.register import load_file
from shared.signing import Signer
from shared.transport import connect
from tests.conftest import make_node_dir
from tests.county.helpers import TEST_KEYS, deliver_keys, enrol_nodes, feed
from tests.ids import sample_member_id
from tests.samples import id_number, xlsx
from tongxin.natsd import EmbeddedNats

TREE = [
    ["县委", "jx-county", "中共江县委员会", "", "", "", ""],
    ["乡镇党委", "t-shangtang", "上塘镇党委", "jx-county", "", "", ""],
    ["村党支部", "v-shangtang", "上塘村党支部", "t-shangtang", "", "", ""],
    ["村党支部", "v-xiling", "西岭村党支部", "t-shangtang", "", "", ""],
    ["流动党组织", "dongguan", "驻东莞服务站党支部", "jx-county", "dongguan", "广东东莞", "服务站"],
    ["流动党组织", "huadu", "驻花都皮具产业链党支部", "jx-county", "huadu", "广东广州花都", "产业链"],
    ["流入地党组织", "dg-host", "东莞市长安镇党委", "dongguan", "", "广东东莞", ""],
]
MOVED = sample_member_id(1)
"""王小明: registered at huadu, moved to dongguan."""
STAYED = sample_member_id(2)
"""李四: registered at huadu, stays there."""


def tree_xlsx() -> bytes:
    return xlsx(TREE, list(HEADERS))


def registration(i: int, name: str, outstation: str) -> dict[str, Any]:
    return {
        "type": "member.registered",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "payload": {
            "member_id": sample_member_id(i),
            "personal": {"name": name, "id_number": id_number(i)},
            "home_branch": "v-shangtang",
            "outstation": outstation,
            "host_location": "广东广州花都",
            "flowed_out_on": "2019-03-01",
        },
    }


@dataclass
class County:
    engine: Engine
    signer: Signer
    dongguan: NodeService
    huadu: NodeService

    def close(self) -> None:
        self.dongguan.close()
        self.huadu.close()
        self.engine.dispose()


def county(tmp: Path, nats_url: str = "nats://127.0.0.1:1") -> County:
    """The county and its two nodes (each trusting the county's key), everything ingested."""
    signer = Signer.generate()
    nodes = [
        NodeService(
            make_node_dir(tmp / n, node_id=n, nats_url=nats_url, county_public_key=signer.public_key_hex)
        )
        for n in ("dongguan", "huadu")
    ]
    dongguan, huadu = nodes
    engine = make_engine(f"sqlite:///{tmp / 'county.db'}")
    migrate(engine)
    enrol_nodes(engine, dongguan, huadu)
    parsed, loaded = load_file(engine, tree_xlsx())
    assert loaded is not None, parsed.errors
    items = [registration(1, "王小明", "huadu"), registration(2, "李四", "huadu")]
    items.append(
        {
            "type": "member.moved",
            "occurred_at": "2026-02-01T09:00:00+08:00",
            "payload": {
                "member_id": MOVED,
                "outstation": "dongguan",
                "host_location": "广东东莞",
                "host_org": "dg-host",
            },
        }
    )
    huadu.record([parse_item(i, huadu.keys) for i in items])
    feed(Ingestor(engine, "jx", CountySigning(signer)), [d for _, d in huadu.envelopes.after(0, 1000)])
    deliver_keys(engine, huadu)
    return County(engine, signer, dongguan, huadu)


def allow(server: EmbeddedNats, *nodes: NodeService) -> None:
    for node in nodes:
        server.allow_node("jx", node.node_id, node.dir.ensure_nats_key())


async def publish(server: EmbeddedNats, c: County, documents: int = 3, timeout: float = 20.0) -> int:
    """Run the county's publisher on its own NATS connection until `documents` are in the bucket."""
    nc = await connect(server.url, identity=server.identity("county"))
    publisher = ReferencePublisher(nc, c.engine, "jx", CountySigning(c.signer), TEST_KEYS)
    try:
        deadline = time.monotonic() + timeout
        while publisher.puts < documents:
            assert time.monotonic() < deadline, f"published {publisher.puts} of {documents}"
            await asyncio.sleep(0.05)
        return publisher.puts
    finally:
        await publisher.unsubscribe()
        await nc.close()


def cache_offline(c: County) -> None:
    """Hand each node the documents the county would publish, as its fetcher would have cached
    them (the same documents, signed by the county; no NATS)."""
    from services.branch_node.reference import cache_of
    from services.county.reference import documents
    from shared import reference, repair

    with c.engine.connect() as conn:
        plains = documents.build(conn, "jx", TEST_KEYS)
    at = repair.now_text()
    for node in (c.dongguan, c.huadu):
        cache = cache_of(node)
        for plain in plains:
            doc = repair.sign(documents.finish(plain, at), c.signer)
            if isinstance(doc, reference.OrgTreeDoc):
                assert cache.take(reference.encode(doc), reference.OrgTreeDoc)
            elif doc.node_id == node.node_id:
                assert cache.take(reference.encode(doc), reference.CoManagedDoc)
