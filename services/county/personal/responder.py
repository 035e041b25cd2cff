"""The key responder: members' keys handed over by nodes on their keys subjects (request-reply).

For each `KeyDelivery` (`shared.personal`): the node is enrolled, its signature verifies under a
current, unrevoked key of that node, and the subject is that node's; the key opens with the
county receipt key it was sealed to (the current one or the previous one while it co-signs); it
is stored wrapped (`store`), again without change on a redelivery; the member is indexed if the
roster already holds their sealed registration. The answer is a `KeyAck` signed by the current
receipt key: stored, or refused with the reason.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import msgspec
from nacl.exceptions import CryptoError
from sqlalchemy import Engine, select

from services.county.db import tables as t
from services.county.keys import CountySigning
from services.county.personal import erasure
from services.county.personal.index import index_members
from services.county.personal.master import MasterKey
from services.county.personal.store import KeyStore, Put
from shared.personal import KEY_BYTES, KeyAck, KeyDelivery
from shared.signing import Verifier
from shared.wire import keys_filter, node_of_keys_subject

log = logging.getLogger("tongxin.county.personal")

MAX_DELIVERY_BYTES = 2048
"""A KeyDelivery is some 600 bytes; anything much larger is refused unread."""


async def serve_keys(nc: Any, engine: Engine, county_id: str, signing: CountySigning, store: KeyStore) -> Any:
    """Answer key deliveries until the returned subscription is unsubscribed."""

    async def handle(msg: Any) -> None:
        if not msg.reply:
            return
        ack = await asyncio.to_thread(answer, engine, county_id, signing, store, msg.subject, msg.data)
        await msg.respond(msgspec.json.encode(ack))

    return await nc.subscribe(keys_filter(county_id), queue=f"county-{county_id}-keys", cb=handle)


def answer_keys(
    consumer: Any, engine: Engine, county_id: str, signing: CountySigning, master: Path
) -> KeyStore:
    """The key store under the master key at `master` (made 0600 on first use), its responder
    subscribed on each of `consumer`'s connections (`county serve`, `county ingest`)."""
    store = KeyStore(MasterKey.load_or_create(master))
    consumer.responders.append(lambda nc: serve_keys(nc, engine, county_id, signing, store))
    return store


def _ack(signing: CountySigning, node_id: str, key_id: str, refused: str = "") -> KeyAck:
    signer = signing.signer
    unsigned = KeyAck(
        node_id=node_id,
        key_id=key_id,
        stored=not refused,
        refused=refused[:200],
        county_key_id=signer.key_id,
        sig="0" * 128,
    )
    return msgspec.structs.replace(unsigned, sig=signer.sign(unsigned.digest()).hex())


def answer(
    engine: Engine, county_id: str, signing: CountySigning, store: KeyStore, subject: str, data: bytes
) -> KeyAck:
    """The county's answer to one delivery on `subject`."""
    subject_node = node_of_keys_subject(subject, county_id) or "unknown"
    if len(data) > MAX_DELIVERY_BYTES:
        return _ack(signing, _slug(subject_node), "0" * 32, f"too large: at most {MAX_DELIVERY_BYTES} bytes")
    try:
        delivery = msgspec.json.decode(data, type=KeyDelivery)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _ack(signing, _slug(subject_node), "0" * 32, f"not a key delivery: {exc}")
    refused = _refusal(engine, county_id, signing, subject, delivery)
    if isinstance(refused, str):
        log.warning("a key delivery was refused", extra={"node_id": delivery.node_id, "reason": refused})
        return _ack(signing, delivery.node_id, delivery.key_id, refused)
    with engine.begin() as conn:
        if erasure.is_erased(conn, delivery.member_id):  # a node that had not heard of it yet
            return _ack(signing, delivery.node_id, delivery.key_id, "member_id: the member is erased")
        put = store.put(conn, delivery.node_id, delivery.member_id, delivery.key_id, refused)
        if put is Put.OTHER:
            return _ack(
                signing, delivery.node_id, delivery.key_id, "key_id: another key is stored under this id"
            )
        index_members(conn, store, [delivery.member_id])
    return _ack(signing, delivery.node_id, delivery.key_id)


def _slug(node_id: str) -> str:
    return node_id if node_id and node_id != "*" else "unknown"


def _refusal(
    engine: Engine, county_id: str, signing: CountySigning, subject: str, delivery: KeyDelivery
) -> str | bytes:
    """Why the delivery is refused, or the member key it carries."""
    if node_of_keys_subject(subject, county_id) != delivery.node_id:
        return "node_id: the delivery names another node than its subject"
    c = t.node_keys.c
    with engine.connect() as conn:
        enrolled = conn.execute(
            select(t.nodes.c.node_id).where(t.nodes.c.node_id == delivery.node_id)
        ).scalar_one_or_none()
        if enrolled is None:
            return "node_id: not an enrolled node"
        found = conn.execute(
            select(c.public_key, c.valid_to_seq, c.revoked_from_seq).where(
                c.node_id == delivery.node_id, c.key_id == delivery.signer_key_id
            )
        ).first()
    if found is None:
        return "sig: not signed by a key of this node"
    if found.revoked_from_seq is not None:
        return f"sig: key {delivery.signer_key_id} of this node is revoked"
    if found.valid_to_seq is not None:
        return f"sig: key {delivery.signer_key_id} of this node was rotated out"
    if not Verifier.from_hex(found.public_key).verify(delivery.digest(), bytes.fromhex(delivery.sig)):
        return "sig: the signature does not verify"
    receivers = [signing.signer, *signing.cosigners()]  # the previous key while its overlap runs
    receiver = next((s for s in receivers if s.key_id == delivery.county_key_id), None)
    if receiver is None:
        return f"county_key_id: {delivery.county_key_id} is not a receipt key of this county"
    try:
        key = receiver.unseal(base64.b64decode(delivery.sealed_key))
    except (CryptoError, ValueError):
        return "sealed_key: does not open with the county key named"
    if len(key) != KEY_BYTES:
        return f"sealed_key: a member key is {KEY_BYTES} bytes"
    return key
