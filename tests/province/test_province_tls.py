"""Issue 17, the leaf link over TLS (docs/province.md §5.1): the province's leafnode listener with
a certificate from a private CA made in the test (tests/pki.py), each county trusting that CA.

A county's events reach the province's stream over it, and the line carries neither the
county's password nor its subjects in clear. A server dialling as a county with the right
password but without the CA, or trusting another CA, is never linked: nothing of it is sourced,
the province's `leafz` lists no leaf of its account, both sides log the failed handshake (the
county's server refuses the province's certificate before it sends its password). A plain-text
dial to the listener gets the server's INFO asking for TLS, and nothing after it. A province
certificate that has expired is refused in turn; renewed (and the server reloaded), the link
resumes and the province holds everything the county recorded meanwhile."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import urllib.request
from pathlib import Path

import nats
import trustme

from services.province.stream import PROVINCE_STREAM
from tests.pki import issue
from tests.province.site import Province
from tests.province.test_province import _publish, county_caught_up, items, province_caught_up
from tests.repair.site import wait_until
from tongxin.natsd import EmbeddedNats, Tls, free_port
from tongxin.natsd_province import county_config, province_account

COUNTIES = ("anhua", "baojing")
REFUSED = "tls leafnode handshake error"
CLOSED = "leafnode connection closed: tls handshake failure"


def test_events_cross_the_tls_leaf_link_and_only_a_county_trusting_the_province_joins(
    tmp_path: Path, pki: tuple[Path, Path, Path]
) -> None:
    ca_file, cert_file, key_file = pki
    other_ca = issue(tmp_path / "other")[0]
    monitor = free_port()
    p = Province(
        tmp_path / "site",
        COUNTIES,
        ("dongguan",),
        tls=Tls(cert_file, key_file),
        ca=ca_file,
        http_port=monitor,
    )
    strangers: list[EmbeddedNats] = []
    try:
        p.start()
        for c, (cid, county) in enumerate(p.counties.items()):
            assert p.servers.leaf_url_of(cid).startswith("tls://")
            county.record("dongguan", items(c + 1, 0, 0, 3, "dongguan"))
        wait_until(
            lambda: all(len(p.archive(c)) == 3 and province_caught_up(p, c) for c in COUNTIES),
            60,
            "the province and the counties",
        )
        assert _linked(monitor) == {province_account(c) for c in COUNTIES}
        for cid, county in p.counties.items():  # what the county's side sent is TLS records only
            line = b"".join(county.link.sent)
            assert len(line) > 1000 and line[:1] == b"\x16", "a TLS handshake first"
            for clear in (p.servers.passwords[cid].encode(), b"CONNECT", f"tongxin.{cid}.events".encode()):
                assert clear not in line

        p.counties["baojing"].link.cut()
        wait_until(lambda: _linked(monitor) == {province_account("anhua")}, 30, "baojing's leaf to close")
        before = asyncio.run(_province_messages(p, "baojing"))
        right_url = p.servers.leaf_url_of("baojing")  # the right password, straight to the listener
        for name, ca in (("no-ca", None), ("other-ca", other_ca)):
            server = EmbeddedNats(
                tmp_path / name,
                open_access=True,
                domain="county-baojing",
                more_config=county_config("baojing", right_url, ca),
            )
            strangers.append(server)
            server.start()
            asyncio.run(_publish(server.url, "tongxin.baojing.events.dongguan", b'{"stranger": true}'))
        # each has dialled and been refused three times over (the county's reconnect is 250 ms)
        wait_until(lambda: all(_log(s.store_dir).count(REFUSED) >= 3 for s in strangers), 30, "refusals")
        assert all("certificate signed by unknown authority" in _log(s.store_dir) for s in strangers)
        assert REFUSED in _log(p.servers.province.store_dir) and CLOSED in _log(p.servers.province.store_dir)
        assert _linked(monitor) == {province_account("anhua")}, "no leaf of baojing's account"
        assert asyncio.run(_province_messages(p, "baojing")) == before, "nothing of the strangers sourced"
        for server in strangers:
            server.stop()
        refusals = _log(p.servers.province.store_dir).count(CLOSED)
        after_info = _plain_dial(p.servers.leaf_port, p.servers.passwords["baojing"])
        assert b"PONG" not in after_info and b"+OK" not in after_info
        wait_until(lambda: _log(p.servers.province.store_dir).count(CLOSED) > refusals, 10, "its refusal")

        p.counties["baojing"].link.restore()  # the county itself, trusting the CA, resumes
        p.counties["baojing"].record("dongguan", items(2, 0, 3, 2, "dongguan"))
        wait_until(lambda: province_caught_up(p, "baojing") and len(p.archive("baojing")) == 5, 60, "baojing")
        assert _linked(monitor) == {province_account(c) for c in COUNTIES}
    finally:
        for server in strangers:
            server.stop()
        p.close()


def test_an_expired_province_certificate_is_refused_and_the_link_resumes_when_renewed(
    tmp_path: Path,
) -> None:
    ca = trustme.CA()
    ca_file, old_cert, old_key = issue(tmp_path / "old", ca=ca, expired=True)
    _, new_cert, new_key = issue(tmp_path / "new", ca=ca)
    cert, key = tmp_path / "province.pem", tmp_path / "province-key.pem"  # the files the server names
    shutil.copy(old_cert, cert)
    shutil.copy(old_key, key)
    monitor = free_port()
    p = Province(
        tmp_path / "site", ("anhua",), ("dongguan",), tls=Tls(cert, key), ca=ca_file, http_port=monitor
    )
    try:
        p.start()
        county = p.counties["anhua"]
        county.record("dongguan", items(1, 0, 0, 3, "dongguan"))
        wait_until(lambda: county_caught_up(p, "anhua"), 60, "the county, linked or not")
        expired = "certificate has expired"
        wait_until(
            lambda: _log(county.server.store_dir).count(expired) >= 3, 30, "refusals of the expired one"
        )
        assert _linked(monitor) == set() and p.archive("anhua") == []

        shutil.copy(new_cert, cert)  # renewed, as an operator does: new files, then a reload
        shutil.copy(new_key, key)
        p.servers.province.reload()
        county.record("dongguan", items(1, 0, 3, 2, "dongguan"))
        wait_until(
            lambda: len(p.archive("anhua")) == 5 and province_caught_up(p, "anhua"), 60, "the province"
        )
        assert _linked(monitor) == {province_account("anhua")}
    finally:
        p.close()


def _linked(monitor: int) -> set[str]:
    """The accounts of the leaf connections the province's server holds (its /leafz)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/leafz", timeout=5) as answer:
        return {leaf["account"] for leaf in json.load(answer).get("leafs") or []}


def _log(store_dir: Path) -> str:
    return (store_dir / "nats-server.log").read_text(errors="replace").lower()


def _plain_dial(port: int, password: str) -> bytes:
    """A leafnode dial that never starts TLS: the server's INFO asks for it; a CONNECT in plain
    text (with baojing's right password) and a PING get no NATS answer, only (at most a TLS alert
    and) the connection's end. What came after the INFO."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        info = raw.recv(4096)
        assert info.startswith(b"INFO ") and json.loads(info[5:])["tls_required"] is True
        connect = {"user": "baojing", "pass": password, "verbose": False, "pedantic": False}
        raw.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        answer = b""
        try:
            while chunk := raw.recv(4096):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


async def _province_messages(p: Province, county_id: str) -> int:
    """How many of the county's messages the province's stream holds."""
    nc = await nats.connect(p.servers.province.url, **p.servers.identity.options())
    try:
        info = await nc.jetstream().stream_info(PROVINCE_STREAM, subjects_filter=f"tongxin.{county_id}.>")
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()
