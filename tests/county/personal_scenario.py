"""Sealed registrations for the county's personal-data tests: built here with `shared.personal.seal`
and a fresh `MemberKey`, the way nodes now record them (random member ids)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import msgspec

from services.branch_node.application import NewEvent
from services.branch_node.service import NodeService
from services.county.keys import CountySigning
from services.county.personal.master import MasterKey
from services.county.personal.store import KeyStore
from shared.catalog import member as m
from shared.catalog.base import Personal
from shared.personal import KeyDelivery, MemberKey, new_member_id, seal
from shared.signing import Signer, seal_for
from tests.county.helpers import ORG_TREE, record
from tests.samples import id_number

ID_A = "431102198807010898"
ID_B = id_number(2)


@dataclass(frozen=True)
class Sealed:
    member_id: str
    key: MemberKey
    envelopes: list[bytes]


def org_items() -> list[dict[str, object]]:
    return [
        {
            "type": "org.registered",
            "occurred_at": "2026-01-01T02:00:00Z",
            "payload": {"org_id": o, "name": n, "kind": k, "parent_id": p, **extra},
        }
        for o, n, k, p, extra in ORG_TREE
    ]


def register_sealed(
    node: NodeService,
    name: str,
    id_number: str,
    phone: str | None = "13812345678",
    home_branch: str = "v1",
    day: str = "2026-02-01",
) -> Sealed:
    member_id, key = new_member_id(), MemberKey.new()
    personal = seal(Personal(name=name, id_number=id_number, phone=phone), key, member_id)
    body = m.MemberRegistered(
        member_id=member_id, personal=personal, home_branch=home_branch, flowed_out_on=date(2026, 1, 15)
    )
    before = node.log.last_seq()
    node.record([NewEvent(body=body, occurred_at=datetime.fromisoformat(day + "T10:00:00+08:00"))])
    return Sealed(member_id, key, [data for _, data in node.envelopes.after(before, 1_000_000)])


def setup_orgs(node: NodeService) -> list[bytes]:
    return record(node, org_items())


def key_store(tmp_path: Path) -> KeyStore:
    return KeyStore(MasterKey.load_or_create(tmp_path / "county-personal.key"))


def delivery(
    node_id: str, signer: Signer, sealed: Sealed, county: Signer, *, to: Signer | None = None
) -> bytes:
    """A node's KeyDelivery of `sealed`'s key, sealed to `to` (default: the county's key), signed by
    `signer`, named as for `county`'s key id."""
    box = seal_for((to or county).public_key, sealed.key.key)
    unsigned = KeyDelivery(
        node_id=node_id,
        member_id=sealed.member_id,
        key_id=sealed.key.key_id,
        county_key_id=county.key_id,
        sealed_key=base64.b64encode(box).decode(),
        signer_key_id=signer.key_id,
        sig="0" * 128,
    )
    signed = msgspec.structs.replace(unsigned, sig=signer.sign(unsigned.digest()).hex())
    return msgspec.json.encode(signed)


def signing(county: Signer) -> CountySigning:
    return CountySigning(county)
