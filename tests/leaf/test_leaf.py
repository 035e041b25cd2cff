"""Issue 17: an outstation forwarding through a leaf server (deploy/nats/outstation-leaf.conf) on
real nats-servers — the county's with its users, a leaf with no JetStream and no users of its own,
its uplink the node's nkey user through a proxy that can be cut. Correctness never rests on the
leaf: the node's receipts prove what the county holds (confirmed_seq = last_seq, archive = log)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.errors import Error as NatsError
from sqlalchemy import Engine

from services.branch_node.service import NodeService
from services.county.ingest.incoming import Outcome
from shared.nats_identity import SEED_FILE, node_inbox
from shared.transport import connect
from shared.wire import STREAM, events_subject, receipts_subject
from tests.leaf.leaf import County, Leaf
from tests.repair.site import Site, wait_until
from tests.samples import fund, registration

NODES = ("dongguan", "huadu")


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    c = County(tmp_path)
    c.start()
    try:
        yield c
    finally:
        c.server.stop()


@pytest.fixture
def leaf(tmp_path: Path, county: County) -> Iterator[Leaf]:
    lf = Leaf(tmp_path, county)
    try:
        yield lf
    finally:
        lf.close()


@pytest.fixture
def outstation(tmp_path: Path, county: County, leaf: Leaf, county_engine: Engine) -> Iterator[Site]:
    """dongguan forwards through the leaf (its uplink dongguan's nkey); huadu is enrolled too."""
    s = Site(
        tmp_path,
        county.server.url,
        county_engine,
        NODES,
        county_identity=county.server.identity("county"),
        node_url=leaf.url,
    )
    try:
        for node_id, node in s.nodes.items():
            key = node.dir.nats_key()
            assert key is not None
            county.server.allow_node("jx", node_id, key)
        leaf.start(seed_of(s.nodes["dongguan"]))
        yield s
    finally:
        s.close()


def seed_of(node: NodeService) -> str:
    return (node.dir.path / SEED_FILE).read_text().strip()


def test_a_node_forwarding_through_the_leaf_reaches_the_archive_with_receipts(outstation: Site) -> None:
    s = outstation
    consumer = s.start_county()
    fwd = s.start_node("dongguan")
    assert fwd.nats_url == s.node_url != s.url, "the node knows only the leaf"
    s.record("dongguan", [registration(i) for i in range(30)])
    s.wait_converged("dongguan")
    st = s.nodes["dongguan"].status()
    assert st.confirmed_seq == st.last_seq == 30 and st.forwarded_seq == 30
    assert consumer.ingestor.counts[Outcome.ARCHIVED] == 30


def test_the_uplink_cut_and_restored_loses_nothing_and_doubles_nothing(outstation: Site, leaf: Leaf) -> None:
    s = outstation
    consumer = s.start_county()
    fwd = s.start_node("dongguan")
    s.record("dongguan", [registration(i) for i in range(20)])
    s.wait_converged("dongguan")
    s.record("dongguan", [fund(i) for i in range(200)])
    leaf.cut()  # mid-stream: some of the 200 in flight, or acknowledged with the ack lost
    failures = fwd.state.failures
    s.record("dongguan", [fund(200 + i) for i in range(25)])
    wait_until(lambda: fwd.state.failures > failures + 2, 30, "publishes failing while the uplink is down")
    st = s.nodes["dongguan"].status()
    assert st.last_seq == 245 and st.confirmed_seq < 245 and st.backlog > 0, "the node keeps its backlog"
    sent = st.forwarded_seq
    wait_until(lambda: fwd.state.failures > failures + 5, 30, "more failed rounds")
    assert s.nodes["dongguan"].status().forwarded_seq == sent, "no JetStream ack while the uplink is down"
    leaf.restore()
    s.wait_converged("dongguan")
    st = s.nodes["dongguan"].status()
    assert st.confirmed_seq == st.last_seq == 245, "the receipt covers everything: 0 lost"
    assert consumer.ingestor.counts[Outcome.ARCHIVED] == 245, "each archived once: 0 doubled"
    assert leaf.proxy.stats.cuts == 1 and leaf.proxy.stats.accepted >= 2, "the uplink really came back"


async def _stream_holds(url: str, operator: object, subject: str) -> bool:
    nc = await connect(url, identity=operator)  # type: ignore[arg-type]
    try:
        await nc.jetstream().get_last_msg(STREAM, subject)
        return True
    except NatsError:
        return False
    finally:
        await nc.close()


def test_a_stranger_on_the_leaf_cannot_act_as_another_node_at_the_county(
    outstation: Site, county: County, leaf: Leaf
) -> None:
    """The leaf lets anyone in (its worst case); at the county it is dongguan, and only that."""
    operator = county.server.identity("operator")

    async def stranger() -> list[str]:
        # no credentials at all; dongguan's inbox prefix, the only one whose replies come back
        nc = await connect(leaf.url, inbox_prefix=node_inbox("dongguan"))
        try:
            js = nc.jetstream(timeout=2)
            for _ in range(100):  # until the uplink is up: dongguan's own subject answers
                try:
                    await js.publish(events_subject("jx", "dongguan"), b"not an envelope")
                    break
                except NatsError:
                    await asyncio.sleep(0.1)
            refused = []
            for what, call in [
                ("publish as huadu", js.publish(events_subject("jx", "huadu"), b"forged")),
                ("delete the stream", js.delete_stream(STREAM)),
                (
                    "read huadu's receipt",
                    js.get_last_msg("TONGXIN_RECEIPTS", receipts_subject("jx", "huadu")),
                ),
            ]:
                try:
                    await call
                except NatsError:
                    refused.append(what)
            await nc.publish(events_subject("jx", "huadu"), b"forged, no ack asked")
            await nc.publish(events_subject("jx", "dongguan"), b"after it")
            await nc.flush()
            return refused
        finally:
            await nc.close()

    async def stranger_with_its_own_inbox() -> bool:
        nc = await connect(leaf.url)
        try:
            await nc.jetstream(timeout=1).publish(events_subject("jx", "dongguan"), b"stored, no ack back")
            return True
        except NatsError:
            return False
        finally:
            await nc.close()

    refused = asyncio.run(stranger())
    assert refused == ["publish as huadu", "delete the stream", "read huadu's receipt"]
    assert not asyncio.run(stranger_with_its_own_inbox()), "replies come down under dongguan's inbox only"
    url = county.server.url
    wait_until(
        lambda: asyncio.run(_count(url, operator, events_subject("jx", "dongguan"))) == 3, 10, "3 to dongguan"
    )
    assert not asyncio.run(_stream_holds(url, operator, events_subject("jx", "huadu"))), "nothing as huadu"


async def _count(url: str, operator: object, subject: str) -> int:
    nc = await connect(url, identity=operator)  # type: ignore[arg-type]
    try:
        info = await nc.jetstream().stream_info(STREAM, subjects_filter=subject)
        return int((info.state.subjects or {}).get(subject, 0))
    finally:
        await nc.close()


def test_a_revocation_reaches_a_live_leaf_uplink_only_with_a_restart(
    outstation: Site, county: County, leaf: Leaf
) -> None:
    """The uplink is the node's user, but nats-server (2.15.1) does not close a live leafnode
    connection when a reload removes its user, as it does a client's: the leaf keeps carrying the
    revoked node's publishes until the county's server restarts (operations §17.6). If a
    nats-server release starts closing it, the first assertion fails: then say so there."""
    operator, url = county.server.identity("operator"), county.server.url
    subject = events_subject("jx", "dongguan")

    async def publish(attempts: int) -> bool:
        nc = await connect(leaf.url, inbox_prefix=node_inbox("dongguan"))
        try:
            js = nc.jetstream(timeout=1)
            for _ in range(attempts):
                try:
                    await js.publish(subject, b"through the leaf")
                    return True
                except NatsError:
                    await asyncio.sleep(0.1)
            return False
        finally:
            await nc.close()

    assert asyncio.run(publish(100)), "before: the leaf carries dongguan's publishes"
    county.server.revoke_node("dongguan")  # returns once the server has reloaded
    assert asyncio.run(publish(1)), "after the reload alone the live uplink still passes (the gap)"
    county.server.stop()
    county.server.start()
    before = asyncio.run(_count(url, operator, subject))
    assert not asyncio.run(publish(30)), "after a restart the leaf's reconnects are refused"
    assert asyncio.run(_count(url, operator, subject)) == before
    log = (county.server.store_dir / "nats-server.log").read_text()
    assert "Leafnode connection closed: Authentication Failure" in log
