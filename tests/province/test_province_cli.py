"""`tongxin province enrol-node|ingest|token` as an operator runs them, against a real county
server joined to a real province server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats

from services.province.stream import PROVINCE_STREAM
from tests.e2e.conftest import tongxin
from tests.province.site import Province
from tests.province.test_province import items
from tests.repair.site import wait_until


def test_an_operator_enrols_ingests_and_makes_a_token(tmp_path: Path) -> None:
    p = Province(tmp_path / "site", ("anhua",), ("dongguan",))
    try:
        county = p.counties["anhua"]
        county.start()
        county.record("dongguan", items(1, 0, 0, 4, "dongguan"))
        template = f"sqlite:///{tmp_path}/cli/{{county}}.db"
        seed = tmp_path / "province.seed"
        seed.write_text(p.servers.seed)
        ingest: tuple[str, ...] = (
            "province",
            "ingest",
            "--county",
            "anhua",
            "--nats",
            p.servers.province.url,
        )
        ingest += ("--nats-seed", str(seed), "--db-template", template, "--once", "--max-bytes", str(2**28))

        key = county.nodes["dongguan"].first_key.public_key_hex
        enrolled = tongxin("province", "enrol-node", "anhua", "dongguan", key, "--db-template", template)
        assert enrolled.returncode == 0, enrolled.stderr
        assert "enrolled anhua/dongguan" in enrolled.stdout
        first = tongxin(*ingest)  # makes the stream; its sources copy from then on
        assert first.returncode == 0, first.stderr
        wait_until(lambda: asyncio.run(_messages(p)) >= 4, 60, "the source")
        second = tongxin(*ingest)
        assert second.returncode == 0, second.stderr
        archived = [
            int(part.split(": ")[1])
            for r in (first, second)
            for part in r.stdout.strip().split(", ")
            if part.startswith("archived")
        ]
        assert sum(archived) == 4, (first.stdout, second.stdout)

        bad = tongxin("province", "ingest", "--county", "Not A Slug", "--nats", p.servers.province.url)
        assert bad.returncode == 2 and "--county" in bad.stderr
        token = tongxin(
            "province",
            "token",
            "wang",
            "--role",
            "province_analyst",
            "--province-db",
            f"sqlite:///{tmp_path}/cli/province.db",
        )
        assert token.returncode == 0 and len(token.stdout.strip()) >= 40
        other = tongxin("province", "token", "wang", "--role", "analyst")
        assert other.returncode == 2, "a county's role is not the province's"
        helped = tongxin("province", "ingest", "--help")
        assert "Example: tongxin province ingest" in helped.stdout
    finally:
        p.close()


async def _messages(p: Province) -> int:
    nc = await nats.connect(p.servers.province.url, **p.servers.identity.options())
    try:
        return int((await nc.jetstream().stream_info(PROVINCE_STREAM)).state.messages)
    finally:
        await nc.close()
