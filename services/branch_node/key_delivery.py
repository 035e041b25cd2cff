"""Members' keys to the county, outside the archive: `node serve` hands each key the county has not
acknowledged to it by request-reply on the node's keys subject (`shared.wire.keys_subject`, core
NATS: no stream retains it).

Each key goes as a `KeyDelivery`: sealed to the newest county key this node trusts
(`county_trust`), signed by the node's current signing key. It counts as delivered only when a
`KeyAck` with `stored` comes back, signed by a county key this node trusts; anything else (no
answer, a refusal, a bad signature) is one log line and a retry after a backoff. Without any
county key nothing is sent: `node status` counts the keys that wait (`keys_undelivered`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any

import msgspec

from services.branch_node.county_trust import TrustedKey
from services.branch_node.forwarding_state import Backoff
from services.branch_node.keystore import StoredKey
from services.branch_node.service import NodeService
from shared.personal import KeyAck, KeyDelivery
from shared.signing import Verifier, seal_for
from shared.transport import connect
from shared.wire import keys_subject

log = logging.getLogger("tongxin.node.keys")

_PLACEHOLDER_SIG = "0" * 128


class DeliveryRefused(RuntimeError):
    """The county did not take a key (no answer, a refusal, or an answer no trusted key signed)."""


def newest_county_key(keys: list[TrustedKey]) -> TrustedKey | None:
    """The county key to seal to: the newest trusted one not handed over to another."""
    current = [k for k in keys if k.handed_over_until is None]
    found = current or keys
    return found[-1] if found else None


def delivery(node: NodeService, key: StoredKey, county: TrustedKey) -> KeyDelivery:
    """One key as the county receives it: sealed to `county`, signed by the node's current key."""
    signer = node.signer
    sealed = base64.b64encode(seal_for(bytes.fromhex(county.public_key), key.key)).decode("ascii")
    unsigned = KeyDelivery(
        node_id=node.node_id,
        member_id=key.member_id,
        key_id=key.key_id,
        county_key_id=county.key_id,
        sealed_key=sealed,
        signer_key_id=signer.key_id,
        sig=_PLACEHOLDER_SIG,
    )
    return msgspec.structs.replace(unsigned, sig=signer.sign(unsigned.digest()).hex())


def check_ack(data: bytes, node: NodeService, key_id: str) -> KeyAck:
    """The county's answer for `key_id`, if it stored the key and a trusted county key signed it."""
    try:
        ack = msgspec.json.decode(data, type=KeyAck)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DeliveryRefused(f"not a key ack: {exc}") from None
    if ack.node_id != node.node_id or ack.key_id != key_id:
        raise DeliveryRefused(f"an ack for {ack.node_id}/{ack.key_id}, not for this key")
    trusted = {k.key_id: k for k in node.county_trust.trusted()}
    signer = trusted.get(ack.county_key_id)
    if signer is None or not Verifier.from_hex(signer.public_key).verify(
        ack.digest(), bytes.fromhex(ack.sig)
    ):
        raise DeliveryRefused(f"an ack not signed by a county key this node trusts ({ack.county_key_id})")
    if not ack.stored:
        raise DeliveryRefused(f"the county refused the key: {ack.refused}")
    return ack


class KeyCourier:
    """Delivers undelivered keys while `node serve` runs; `delivered` counts them."""

    def __init__(
        self,
        node: NodeService,
        nats_url: str,
        *,
        timeout: float = 5.0,
        idle_poll: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.node = node
        self.nats_url = nats_url
        self.timeout = timeout
        self.idle_poll = idle_poll
        self.backoff = backoff or Backoff(base=1.0, cap=60.0)
        self.delivered = 0
        self.last_error: str | None = None
        self.wake = asyncio.Event()
        self._warned_no_key = False

    async def run(self, stop: asyncio.Event) -> None:
        nc: Any = None
        try:
            while not stop.is_set():
                county = newest_county_key(self.node.county_trust.trusted())
                waiting = await asyncio.to_thread(self.node.keys.undelivered) if county else []
                if county is None and not self._warned_no_key and self.node.keys.count_undelivered():
                    log.warning("no county key: members' keys wait here, undelivered (node county-key add)")
                    self._warned_no_key = True
                if not waiting:
                    await self._sleep(stop, self.idle_poll)
                    continue
                assert county is not None
                try:
                    if nc is None:
                        nc = await connect(self.nats_url, identity=self.node.dir.nats_identity())
                    await self._deliver(nc, waiting, county, stop)
                    self.backoff.reset()
                    self.last_error = None
                except Exception as exc:
                    reason = str(exc) if isinstance(exc, DeliveryRefused) else repr(exc)
                    if not isinstance(exc, DeliveryRefused):
                        with contextlib.suppress(Exception):
                            await nc.close()
                        nc = None
                    delay = self.backoff.next_delay()
                    if reason != self.last_error:
                        log.warning(
                            "key delivery failed", extra={"reason": reason, "retry_in_s": round(delay, 2)}
                        )
                    self.last_error = reason
                    await self._sleep(stop, delay)
        finally:
            if nc is not None:
                with contextlib.suppress(Exception):
                    await nc.close()

    async def _deliver(
        self, nc: Any, waiting: list[StoredKey], county: TrustedKey, stop: asyncio.Event
    ) -> None:
        subject = keys_subject(self.node.config.county_id, self.node.node_id)
        for key in waiting:
            if stop.is_set():
                return
            request = msgspec.json.encode(delivery(self.node, key, county))
            reply = await nc.request(subject, request, timeout=self.timeout)
            check_ack(reply.data, self.node, key.key_id)
            await asyncio.to_thread(self.node.keys.delivered, key.key_id)
            self.delivered += 1
        log.info("keys delivered to the county", extra={"count": len(waiting)})

    async def _sleep(self, stop: asyncio.Event, delay: float) -> None:
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            stopping = asyncio.ensure_future(stop.wait())
            woken = asyncio.ensure_future(self.wake.wait())
            try:
                await asyncio.wait_for(
                    asyncio.wait({stopping, woken}, return_when=asyncio.FIRST_COMPLETED), delay
                )
            finally:
                stopping.cancel()
                woken.cancel()
