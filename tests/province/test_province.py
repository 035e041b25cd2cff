"""Issue 17: three counties of three nodes each, sourced into a province over leafnodes; one
county's link cut and restored; the province's figures equal the sum of the counties'."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from nats.js.errors import ServiceUnavailableError

from services.county.queries.figures import funds, pioneer
from services.county.queries.roster import roster_summary
from services.province.figures import province_figures, province_roster
from shared.streams import ensure_streams_on
from tests.province.site import Province
from tests.repair.site import wait_until
from tests.samples import fund, id_number, registration
from tongxin.natsd import EmbeddedNats
from tongxin.natsd_province import county_config

COUNTIES = ("anhua", "baojing", "cili")
NODES = ("dongguan", "huadu", "wenzhou")


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    p = Province(tmp_path, COUNTIES, NODES)
    try:
        yield p
    finally:
        p.close()


def items(county: int, node: int, start: int, n: int, org: str) -> list[dict[str, object]]:
    """n events of a node: registrations of members numbered per county and node, and funds."""
    out: list[dict[str, object]] = []
    for k in range(start, start + n):
        i = county * 10_000 + node * 1_000 + k
        out.append(registration(i, outstation=org) if k % 2 == 0 else fund(i, org=org))
    return out


def record_round(province: Province, start: int, n: int) -> None:
    for c, county in enumerate(province.counties.values()):
        for j, node_id in enumerate(NODES):
            county.record(node_id, items(c + 1, j, start, n + c, node_id))


def county_caught_up(province: Province, county_id: str) -> bool:
    county = province.counties[county_id]
    logged = sum(node.log.last_seq() for node in county.nodes.values())
    return len(county.archive()) == logged


def province_caught_up(province: Province, county_id: str) -> bool:
    return province.archive(county_id) == province.counties[county_id].archive()


def test_a_cut_link_loses_and_doubles_nothing_and_the_province_adds_up(province: Province) -> None:
    ingest = province.start()
    record_round(province, 0, 6)
    wait_until(lambda: all(county_caught_up(province, c) for c in COUNTIES), 60, "the counties")
    wait_until(lambda: all(province_caught_up(province, c) for c in COUNTIES), 60, "the province")

    cut = province.counties["baojing"]
    cut.link.cut()
    record_round(province, 100, 5)
    wait_until(lambda: all(county_caught_up(province, c) for c in COUNTIES), 60, "the counties while cut")
    wait_until(lambda: all(province_caught_up(province, c) for c in ("anhua", "cili")), 60, "the linked ones")
    assert len(province.archive("baojing")) < len(cut.archive()), "the cut county's new events wait"

    cut.link.restore()
    wait_until(lambda: province_caught_up(province, "baojing"), 90, "the restored county")

    # nothing lost, nothing doubled: each county's archive at the province is the county's own
    for cid, county in province.counties.items():
        assert province.archive(cid) == county.archive()
    assert ingest.counts["quarantined"] == 0

    figures, roster = province_figures(province.store), province_roster(province.store)
    by_county = {c["county_id"]: c for c in figures["counties"]}
    rosters = {c["county_id"]: c for c in roster["counties"]}
    sums: dict[str, int] = {"received_total": 0, "balance": 0, "members": 0}
    for cid, county in province.counties.items():
        with county.engine.connect() as conn:
            own_funds, own_pioneer = funds(conn)["total"], pioneer(conn)["total"]
            own_roster = roster_summary(conn)
        assert by_county[cid]["funds"] == own_funds
        assert by_county[cid]["pioneer"] == own_pioneer
        assert rosters[cid]["by_status"] == own_roster["by_status"]
        assert rosters[cid]["total"] == own_roster["total"] > 0
        sums["received_total"] += own_funds["received_total"]
        sums["balance"] += own_funds["balance"]
        sums["members"] += own_roster["total"]
    assert figures["province"]["funds"]["received_total"] == sums["received_total"] > 0
    assert figures["province"]["funds"]["balance"] == sums["balance"]
    assert roster["province"]["total"] == sums["members"]

    # no personal data in clear at the province: its databases hold sealed boxes only
    files = [f for f in (province.root / "province").iterdir() if f.is_file()]
    held = b"".join(f.read_bytes() for f in files)
    for c in range(1, 4):
        i = c * 10_000
        assert id_number(i).encode() not in held and f"138{i:08d}".encode() not in held
    assert b"sealed" in held


def test_the_province_cannot_change_or_read_beyond_a_countys_events(tmp_path: Path) -> None:
    """Over the link the province reads the events stream's info and sources it; deleting or
    purging the county's stream, reading a message by seq, a consumer on its receipts or a
    durable one, deleting or pulling from the county's own durable are refused (no responder on
    the province's side), and the county's own subjects do not cross. A county reaches neither
    the province's JetStream nor another county's; a county with a wrong password is not let in."""
    p = Province(tmp_path, ("anhua", "baojing"), ("dongguan",))
    try:
        p.start()
        p.counties["anhua"].record("dongguan", items(1, 0, 0, 2, "dongguan"))
        wait_until(lambda: len(p.archive("anhua")) == 2, 60, "the province")
        asyncio.run(_refused(p))
        asyncio.run(_kept_apart(p))
        p.counties["baojing"].link.cut()  # an impostor dials as baojing with a wrong password
        wrong = f"nats-leaf://baojing:not-the-password@127.0.0.1:{p.servers.leaf_port}"
        config = county_config("baojing", wrong)
        impostor = EmbeddedNats(
            tmp_path / "impostor", open_access=True, domain="county-baojing", more_config=config
        )
        impostor.start()
        asyncio.run(_publish(impostor.url, "tongxin.baojing.events.dongguan", b'{"forged": true}'))
        wait_until(
            lambda: _refreshed(p, lambda log: 'authentication error - user "baojing"' in log), 30, "refusal"
        )
        impostor.stop()
        assert asyncio.run(_province_subjects(p)) == {"tongxin.anhua.events.dongguan"}, "nothing of baojing's"
        assert p.archive("baojing") == []
    finally:
        p.close()


async def _publish(url: str, subject: str, data: bytes) -> None:
    nc = await nats.connect(url)
    try:
        await ensure_streams_on(nc.jetstream())
        await nc.jetstream().publish(subject, data)
    finally:
        await nc.close()


async def _province_subjects(p: Province) -> set[str]:
    nc = await nats.connect(p.servers.province.url, **p.servers.identity.options())
    try:
        info = await nc.jetstream().stream_info("TONGXIN_PROVINCE", subjects_filter=">")
        return set(info.state.subjects or {})
    finally:
        await nc.close()


def _refreshed(p: Province, check: Callable[[str], bool]) -> bool:
    return check((p.servers.province.store_dir / "nats-server.log").read_text().lower())


async def _refused(p: Province) -> None:
    nc = await nats.connect(p.servers.province.url, **p.servers.identity.options())
    try:
        county = nc.jetstream(domain="county-anhua", timeout=1.0)
        assert (await county.stream_info("TONGXIN")).state.messages == 2
        for call in (
            county.delete_stream("TONGXIN"),
            county.purge_stream("TONGXIN"),
            county.get_msg("TONGXIN", 1),
            county.add_consumer("TONGXIN_RECEIPTS", ConsumerConfig()),
            county.add_consumer("TONGXIN", ConsumerConfig(durable_name="taken")),
            county.delete_consumer("TONGXIN", "county-anhua"),
        ):
            with pytest.raises(ServiceUnavailableError):
                await call
        with pytest.raises(nats.errors.NoRespondersError):  # nor take from the county's own durable
            pull = b'{"batch": 1, "no_wait": true}'
            await nc.request("$JS.county-anhua.API.CONSUMER.MSG.NEXT.TONGXIN.county-anhua", pull, timeout=1.0)
        got: list[str] = []

        async def heard(msg: Msg) -> None:
            got.append(msg.subject)

        sub = await nc.subscribe("tongxin.>", cb=heard)
        await nc.flush()
        p.counties["anhua"].record("dongguan", items(1, 0, 2, 1, "dongguan"))
        wait_until(lambda: len(p.archive("anhua")) == 3, 60, "the next event")
        await sub.unsubscribe()
        assert got == [], "no county subject reaches the province's server"
    finally:
        await nc.close()


async def _kept_apart(p: Province) -> None:
    """From a client on anhua's server: the province's JetStream and baojing's are out of reach
    (anhua's own answers, as a local server's always do)."""
    nc = await nats.connect(p.counties["anhua"].server.url)
    try:
        for subject in (
            "$JS.province.API.STREAM.INFO.TONGXIN_PROVINCE",
            "$JS.county-baojing.API.STREAM.INFO.TONGXIN",
        ):
            with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
                await nc.request(subject, b"", timeout=1.0)
        assert (await nc.jetstream().stream_info("TONGXIN")).state.messages >= 3  # re-sends count too
    finally:
        await nc.close()
