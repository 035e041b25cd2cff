"""Building county test inputs: real branch nodes, their signed envelopes, crafted bad messages."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.personal.master import MasterKey
from services.county.personal.store import KeyStore
from services.county.registry import enrol
from shared import envelope
from shared.signing import Signer
from shared.wire import events_subject
from tests.conftest import make_node_dir

TEST_KEYS = KeyStore(MasterKey(bytes(range(32))))
"""The tests' county key store: the key tables of whichever database, under a fixed master key."""


def deliver_keys(engine: Engine, *nodes: NodeService) -> int:
    """Put every key these nodes hold into the county's key store (`TEST_KEYS`), as their key
    couriers and the county's responder do over NATS; returns how many."""
    n = 0
    with engine.begin() as conn:
        for node in nodes:
            for k in node.keys.undelivered(limit=1_000_000):
                TEST_KEYS.put(conn, node.node_id, k.member_id, k.key_id, k.key)
                node.keys.delivered(k.key_id)
                n += 1
    return n


def open_node(root: Path, node_id: str) -> NodeService:
    return NodeService(make_node_dir(root / node_id, node_id=node_id))


def record(node: NodeService, items: list[dict[str, Any]]) -> list[bytes]:
    """Record items at the node; returns the new signed envelopes (wire bytes) in seq order."""
    before = node.log.last_seq()
    node.record([parse_item(i, node.keys) for i in items])
    return [data for _, data in node.envelopes.after(before, 1_000_000)]


def subject(node_id: str) -> str:
    return events_subject("jx", node_id)


def incoming(data: bytes, node_id: str | None = None) -> Incoming:
    node_id = node_id or envelope.decode(data).node_id
    return Incoming(data, subject(node_id))


def enrol_nodes(
    engine: Engine, *nodes: NodeService, office: str | None = None, orgs: dict[str, list[str]] | None = None
) -> None:
    """Enrol the nodes; `office` names the county office's node, `orgs` the organisations a node
    speaks for where not only the one of its own id (docs/authority.md)."""
    with engine.begin() as conn:
        for node in nodes:
            speaks = (orgs or {}).get(node.node_id)
            enrol(
                conn,
                node.node_id,
                node.first_key.public_key_hex,
                org_ids=speaks,
                office=node.node_id == office,
            )


def feed(ingestor: Ingestor, datas: list[bytes], batch: int = 500) -> list[str]:
    outcomes: list[str] = []
    for i in range(0, len(datas), batch):
        outcomes += ingestor.process([incoming(d) for d in datas[i : i + batch]])
    return outcomes


def count(engine: Engine, table: t.Table) -> int:  # type: ignore[name-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def craft(
    signer: Signer,
    *,
    node_id: str,
    seq: int,
    type_: str,
    payload: dict[str, Any],
    prev_hash: str,
    schema: int = 1,
    occurred_at: str = "2026-03-01T02:00:00.000000Z",
) -> bytes:
    """A correctly hashed and signed envelope with any type/payload (for refusals past the signature)."""
    body = {
        "node_id": node_id,
        "seq": seq,
        "event_id": str(uuid.uuid4()),
        "type": type_,
        "schema": schema,
        "occurred_at": occurred_at,
        "recorded_at": occurred_at,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    digest = hashlib.sha256(envelope.canonical(body))
    return envelope.canonical(
        {
            **body,
            "hash": digest.hexdigest(),
            "sig": signer.sign(digest.digest()).hex(),
            "key_id": signer.key_id,
        }
    )


# The test county: (org_id, name, kind, parent, extra fields) for org.registered events.
ORG_TREE: list[tuple[str, str, str, str | None, dict[str, str]]] = [
    ("county", "江县县委", "county_committee", None, {}),
    ("t1", "东乡镇党委", "township_committee", "county", {}),
    ("t2", "西乡镇党委", "township_committee", "county", {}),
    ("v1", "东一村党支部", "village_branch", "t1", {}),
    ("v2", "东二村党支部", "village_branch", "t1", {}),
    ("v3", "西一村党支部", "village_branch", "t2", {}),
    (
        "dongguan",
        "驻东莞服务站党支部",
        "outstation",
        "county",
        {"host_location": "广东东莞", "mode": "service_station"},
    ),
    (
        "huadu",
        "驻花都皮具产业链党支部",
        "outstation",
        "t1",
        {"host_location": "广东花都", "mode": "industry_chain"},
    ),
    ("changan", "东莞市长安镇党委", "host_org", "dongguan", {"host_location": "广东东莞"}),
]
