"""Erasure at the node (issue 15): the county's signed notice on the node's requests subject
destroys the node's keys of the members it names, on a real nats-server with users, while the
forwarder runs; a notice signed by another key, a stale one or one for another node changes
nothing; an erased member's personal data is refused from then on, and the node's members list
shows them as erased."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.branch_node.application import BatchError
from services.branch_node.forwarder import Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.members import MemberIndex
from services.branch_node.service import NodeService
from shared import repair
from shared.envelope import format_time
from shared.personal import ERASED, ErasureNotice
from shared.signing import Signer
from shared.transport import connect
from shared.wire import requests_subject
from tests.conftest import make_node_dir
from tests.integration.test_forwarding import Running, wait_until
from tests.integration.test_personal_at_node import served  # noqa: F401 (the fixture)
from tests.samples import registration
from tongxin.natsd import EmbeddedNats

COUNTY = Signer.generate()


@pytest.fixture
def trusted(served: tuple[EmbeddedNats, NodeService]) -> tuple[EmbeddedNats, NodeService]:  # noqa: F811
    """`served` (a nats-server with users, the node allowed as itself), the county's key trusted."""
    served[1].county_trust.add(COUNTY.public_key_hex)
    return served


def notice(
    members: list[str], *, signer: Signer = COUNTY, node_id: str = "dongguan", age_s: float = 0
) -> bytes:
    at = format_time(datetime.now(UTC) - timedelta(seconds=age_s))
    unsigned = ErasureNotice(at=at, county_id="jx", node_id=node_id, erased=members)
    return msgspec.json.encode(repair.sign(unsigned, signer))


def send(server: EmbeddedNats, node: NodeService, data: bytes) -> None:
    async def go() -> None:
        nc = await connect(server.url, identity=server.identity("county"))
        try:
            await nc.publish(requests_subject("jx", node.node_id), data)
            await nc.flush()
        finally:
            await nc.close()

    asyncio.run(go())


def names(node: NodeService) -> dict[str, Any]:
    return {m.member_id: m.name for m in MemberIndex(node.log, node.keys).all()}


def test_a_signed_notice_destroys_the_keys_and_nothing_else_does(
    trusted: tuple[EmbeddedNats, NodeService],
) -> None:
    server, node = trusted
    node.record([parse_item(registration(i), node.keys) for i in range(3)])
    first, second, third = (registration(i)["payload"]["member_id"] for i in range(3))
    forwarder = Forwarder(node, server.url)
    with Running(forwarder):
        wait_until(lambda: forwarder.state.connected, what="the forwarder connected")
        wait_until(lambda: node.envelopes.cursor().forwarded_seq == 3, what="forwarded")
        for refused in (
            notice([first], signer=Signer.generate()),  # not the county's key
            notice([first], age_s=3600),  # a copy replayed an hour later
            notice([first], node_id="huadu"),  # for another node
        ):
            send(server, node, refused)
        send(server, node, notice([second]))
        wait_until(lambda: forwarder.erasures.notices == 1, what="the notice taken")
    assert node.keys.has_keys(first) and node.keys.has_keys(third)
    assert node.keys.is_erased(second) and not node.keys.is_erased(first)
    shown = names(node)
    assert shown[second] == ERASED and shown[first] == "成员0" and shown[third] == "成员2"
    update = {"type": "member.details_updated", "payload": {"member_id": second, **_personal(1)}}
    with pytest.raises(BatchError, match="erased"):
        node.record([parse_item(update, node.keys)])
    assert not node.keys.has_keys(second), "no key made again for an erased member"


def _personal(i: int) -> dict[str, Any]:
    return {"personal": registration(i)["payload"]["personal"]}


def test_a_node_without_a_county_key_refuses_every_notice(tmp_path: Path) -> None:
    from services.branch_node.erasure import Erasures, as_notice

    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        node.record([parse_item(registration(0), node.keys)])
        member = registration(0)["payload"]["member_id"]
        erasures = Erasures("dongguan", "jx", node.county_trust.verifiers, node.keys)
        found = as_notice(notice([member]))
        assert found is not None and not erasures.take(found)
        assert node.keys.has_keys(member)
        assert as_notice(b'{"at":"x","county_id":"jx","node_id":"dongguan","from_seq":1,"to_seq":2}') is None
    finally:
        node.close()
