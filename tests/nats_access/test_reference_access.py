"""Reference data over a real nats-server with users (issue 16): the county publishes the tree and
each node's co-managed members into the KV bucket; a node reads its own two entries (the names
open with its key only), cannot read another node's members, and cannot write the bucket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.branch_node.reference import cache_of, fetch
from services.county.keys import CountySigning
from services.county.reference.org_sheet import HEADERS
from services.county.reference.publish import CHECK_S, ReferencePublisher
from services.county.reference.register import load_file
from shared import reference as r
from shared.transport import connect
from shared.wire import REFS_BUCKET, refs_members_key, refs_orgs_key, refs_stream, refs_subject
from tests.county.helpers import TEST_KEYS
from tests.nats_access.test_permissions import connect as connect_watched
from tests.nats_access.test_permissions import refused
from tests.reference_scenario import MOVED, STAYED, TREE, County, allow, county, publish
from tests.samples import xlsx
from tongxin.natsd import EmbeddedNats, ensure_stream


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[EmbeddedNats, County]]:
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    c = county(tmp_path / "site", server.url)
    try:
        asyncio.run(ensure_stream(server.url, identity=server.identity("operator")))
        allow(server, c.dongguan, c.huadu)
        yield server, c
    finally:
        c.close()
        server.stop()


def test_a_node_reads_its_own_reference_entries_and_opens_only_its_names(
    site: tuple[EmbeddedNats, County],
) -> None:
    server, c = site
    assert asyncio.run(publish(server, c)) >= 3

    async def fetch_at(node_name: str) -> int:
        node = getattr(c, node_name)
        nc = await connect(server.url, identity=node.dir.nats_identity())
        try:
            return await fetch(nc.jetstream(), node, cache_of(node))
        finally:
            await nc.close()

    assert asyncio.run(fetch_at("dongguan")) == 2
    cache = cache_of(c.dongguan)
    tree = cache.held(r.OrgTreeDoc)
    assert tree is not None and cache.verified(tree)
    names = {o.org_id: o.name for o in tree.orgs}
    assert names["v-shangtang"] == "上塘村党支部" and names["dg-host"] == "东莞市长安镇党委"
    members = cache.members(c.dongguan.signer)
    assert [(m["member_id"], m["name"], m["status"]) for m in members] == [(MOVED, "王小明", "out")]
    # the name is sealed on NATS and in the cache: nowhere in clear, and huadu's key does not open it
    for name in ("reference-members.json", "reference-orgs.json"):
        path = c.dongguan.dir.path / name
        assert path.stat().st_mode & 0o777 == 0o600
        assert "王小明".encode() not in path.read_bytes()
    assert cache.members(c.huadu.signer)[0]["name"] == "（姓名未到）"
    # huadu registered both: it co-manages neither (they are its own), so its entry lists none
    assert asyncio.run(fetch_at("huadu")) == 2
    assert cache_of(c.huadu).members(c.huadu.signer) == []
    assert STAYED not in {m["member_id"] for m in members}


def test_a_node_cannot_read_another_nodes_members_nor_write_the_bucket(
    site: tuple[EmbeddedNats, County],
) -> None:
    server, c = site
    asyncio.run(publish(server, c))

    async def attempts() -> None:
        nc, errors = await connect_watched(server.url, c.dongguan.dir.nats_identity())
        try:
            js = nc.jetstream(timeout=2)
            own = await js.get_msg(refs_stream(), subject=refs_subject(refs_orgs_key("jx")), direct=True)
            assert own.data
            other = refs_subject(refs_members_key("jx", "huadu"))
            await refused(js.get_msg(refs_stream(), subject=other, direct=True), errors)
            errors.clear()
            # nor its own entry by the stream API (only the direct get of its two keys is granted)
            mine = refs_subject(refs_members_key("jx", "dongguan"))
            await refused(js.get_msg(refs_stream(), subject=mine), errors)
            errors.clear()
            await refused(js.key_value(REFS_BUCKET), errors)
            errors.clear()
            await nc.publish(refs_subject(refs_members_key("jx", "dongguan")), b"{}")
            await nc.flush()
            deadline = time.monotonic() + 3
            while not any("permissions violation" in e.lower() for e in errors):
                assert time.monotonic() < deadline, errors
                await asyncio.sleep(0.05)
        finally:
            await nc.close()

    asyncio.run(attempts())

    async def still_the_countys() -> bytes:
        nc = await connect(server.url, identity=server.identity("operator"))
        try:
            msg = await nc.jetstream().get_msg(
                refs_stream(), subject=refs_subject(refs_members_key("jx", "dongguan")), direct=True
            )
            return bytes(msg.data)
        finally:
            await nc.close()

    doc = r.decode(asyncio.run(still_the_countys()), r.CoManagedDoc)
    assert doc.node_id == "dongguan" and [m.member_id for m in doc.members] == [MOVED]


def test_the_county_puts_again_only_what_a_new_load_changed(site: tuple[EmbeddedNats, County]) -> None:
    server, c = site

    async def run() -> tuple[int, bytes]:
        nc = await connect(server.url, identity=server.identity("county"))
        publisher = ReferencePublisher(nc, c.engine, "jx", CountySigning(c.signer), TEST_KEYS)
        try:
            await until(lambda: publisher.puts >= 3)
            first = publisher.puts
            renamed = [list(row) for row in TREE]
            renamed[2][2] = "上塘村党总支"
            parsed, loaded = await asyncio.to_thread(load_file, c.engine, xlsx(renamed, list(HEADERS)))
            assert loaded is not None and loaded.changed == 1, parsed.errors
            await until(lambda: publisher.puts > first)
            await asyncio.sleep(CHECK_S + 1)  # another look at the fingerprint: nothing more to put
            assert publisher.puts == first + 1  # the tree; the members' documents did not change
            js = nc.jetstream()
            msg = await js.get_msg(refs_stream(), subject=refs_subject(refs_orgs_key("jx")), direct=True)
            return first, bytes(msg.data)
        finally:
            await publisher.unsubscribe()
            await nc.close()

    first, data = asyncio.run(run())
    assert first == 3
    tree = r.decode(data, r.OrgTreeDoc)
    assert {o.org_id: o.name for o in tree.orgs}["v-shangtang"] == "上塘村党总支"


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
