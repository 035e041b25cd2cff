"""A province above its counties on NATS: each county's server (or cluster) its own JetStream
domain, joined to the province's server as a leafnode (docs/province.md).

The county dials out to the province (`county_config`): a county needs no open port. On the
province's server (`province_config`) each county's leafnode user is bound to an account of its
own, which exports to the province's account only what the province's stream needs to source the
county's stream: the county's JetStream API, the subject the county delivers on, flow control.
Tongxin's own subjects (`tongxin.>`: events, receipts, requests, keys, archive) never cross the
link in either direction (`deny_imports` and `deny_exports` on the county's side), so the
province can neither read a county's nodes' traffic nor publish into it, and the county's API is
read-only to the province (`READ_ONLY`).

Across a WAN the link runs over TLS: given a certificate, the province's leafnode listener takes
TLS only (`province_config(tls=…)`), and a county given the CA that signed it (`county_config(ca=…)`)
dials with TLS, verifying that certificate and the name it dials; its password then travels inside
TLS. Without them the link is plain text, for servers on one machine (loopback tests) only.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shared.nats_identity import NatsIdentity, new_seed, public_key
from tongxin.natsd import EmbeddedNats, Tls, free_port

PROVINCE_DOMAIN = "province"
"""The province server's JetStream domain."""
PROVINCE_ACCOUNT = "PROVINCE"
"""The province server's account of its stream and its ingest."""

LOCAL_ONLY = ["tongxin.>"]
"""What never crosses a county's link to the province."""

READ_ONLY = (
    "STREAM.CREATE.>",
    "STREAM.UPDATE.>",
    "STREAM.DELETE.>",
    "STREAM.PURGE.>",
    "STREAM.MSG.DELETE.>",
    "STREAM.MSG.GET.>",
    "STREAM.SNAPSHOT.>",
    "STREAM.RESTORE.>",
    "STREAM.PEER.REMOVE.>",
    "STREAM.LEADER.STEPDOWN.>",
    "DIRECT.GET.>",
    "CONSUMER.DURABLE.CREATE.>",
    "CONSUMER.DELETE.>",
    "CONSUMER.MSG.NEXT.>",
    "CONSUMER.PAUSE.>",
    "CONSUMER.UNPIN.>",
    "CONSUMER.LEADER.STEPDOWN.>",
    "CONSUMER.CREATE.TONGXIN_RECEIPTS",
    "CONSUMER.CREATE.TONGXIN_RECEIPTS.>",
    "CONSUMER.CREATE.KV_TONGXIN_REFS",
    "CONSUMER.CREATE.KV_TONGXIN_REFS.>",
    "ACCOUNT.PURGE.>",
    "META.LEADER.STEPDOWN",
    "SERVER.REMOVE",
)
"""The county's JetStream API calls the province may not make over the link (`$JS.<county
domain>.API.` + each): it may read stream and consumer info and make the ephemeral push
consumers its sources need on the events stream, never change, delete or read anything else of the
county — nor pull from, or delete, the county's own durable consumer."""


def county_domain(county_id: str) -> str:
    """The JetStream domain of a county's server: `county-<id>`."""
    return f"county-{county_id}"


def province_account(county_id: str) -> str:
    """The account a county's leafnode connection is bound to on the province's server."""
    return f"COUNTY_{county_id.upper().replace('-', '_')}"


def deliver_prefix(county_id: str) -> str:
    """Where the county's server delivers what the province's source reads from it."""
    return f"province.deliver.{county_id}"


def province_config(
    leaf_port: int,
    leaf_passwords: dict[str, str],
    province_key: str,
    host: str = "127.0.0.1",
    tls: Tls | None = None,
) -> list[str]:
    """The province's server: the account PROVINCE (JetStream; the province's own user, nkey
    `province_key`) and one account per county, which its leafnode user is bound to and which
    exports to PROVINCE only the county's JetStream API, the subject the county delivers on and
    the flow control replies. So no county reaches the province's JetStream or another county,
    and the province reaches a county's JetStream only (read-only again, on the county's side).

    With `tls` (its certificate and key) the leafnode listener takes TLS connections only. A
    county proves itself by its password, inside TLS, not by a certificate: `tls.ca` (client
    certificates) is refused here."""
    if tls is not None and tls.ca is not None:
        raise ValueError("a county's leafnode dials with its password, not a client certificate")
    accounts: dict[str, Any] = {
        PROVINCE_ACCOUNT: {"jetstream": "enabled", "users": [{"nkey": province_key}], "imports": []}
    }
    users = []
    for cid, password in sorted(leaf_passwords.items()):
        name, api = province_account(cid), f"$JS.{county_domain(cid)}.API.>"
        accounts[name] = {
            "exports": [{"service": api}, {"stream": f"{deliver_prefix(cid)}.>"}, {"service": "$JS.FC.>"}]
        }
        accounts[PROVINCE_ACCOUNT]["imports"] += [
            {"service": {"account": name, "subject": api}},
            {"stream": {"account": name, "subject": f"{deliver_prefix(cid)}.>"}},
            {"service": {"account": name, "subject": "$JS.FC.>"}},
        ]
        users.append({"user": cid, "password": password, "account": name})
    # no_advertise: a county dials the address it was given, never one the province's server
    # gossips (which bypassed the test's cuttable link, and in production names inner addresses)
    leafnodes: dict[str, Any] = {"listen": f"{host}:{leaf_port}", "no_advertise": True}
    if tls is not None:
        leafnodes["tls"] = {"cert_file": str(tls.cert), "key_file": str(tls.key)}
    leafnodes["authorization"] = {"users": users}
    return [f"accounts: {json.dumps(accounts)}", f"leafnodes: {json.dumps(leafnodes)}"]


def county_config(county_id: str, province_leaf_url: str, ca: Path | None = None) -> list[str]:
    """A county server's `leafnodes` block: its one remote, the province, with Tongxin's own
    subjects kept local and the county's JetStream API read-only to the province (`READ_ONLY`).

    With `ca` the county dials with TLS and trusts only a province certificate that CA signed, for
    the host in `province_leaf_url` (`tls://…`); without, it dials in plain text, unless the
    province's listener asks for TLS, and then it trusts the system's CAs only."""
    api = f"$JS.{county_domain(county_id)}.API."
    remote: dict[str, Any] = {
        "url": province_leaf_url,
        "deny_imports": [*LOCAL_ONLY, *(api + call for call in READ_ONLY)],
        "deny_exports": LOCAL_ONLY,
    }
    if ca is not None:
        remote["tls"] = {"ca_file": str(ca)}
    return [f"leafnodes {{ reconnect: '250ms', remotes: [{json.dumps(remote)}] }}"]


@dataclass
class ProvinceServers:
    """The province's server and one server per county, all on this machine (tests, a trial).

    Every county's leafnode user gets a password of its own (`leaf_url_of` carries it; a test puts a
    cuttable link in between, tests/province/link.py) and the province's ingest its nkey
    (`identity`). With `tls` (the province's certificate and key) and `ca` (what signed it, which
    every county trusts) the leaf links run over TLS; without, in plain text. The county servers
    themselves are open here: their own NATS users are the county's business (docs/operations.md
    §9). `http_port`, if given, is the province's server's monitoring port (`/leafz`: who is linked)."""

    root: Path
    county_ids: tuple[str, ...]
    leaf_port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    tls: Tls | None = None
    ca: Path | None = None
    http_port: int = 0

    def __post_init__(self) -> None:
        self.leaf_port = self.leaf_port or free_port()
        self.passwords = self.passwords or {c: secrets.token_urlsafe(24) for c in self.county_ids}
        if (self.tls is None) != (self.ca is None):
            raise ValueError("a TLS link needs both the province's certificate and the CA counties trust")
        self.seed = new_seed()
        config = province_config(self.leaf_port, self.passwords, public_key(self.seed), tls=self.tls)
        if self.http_port:
            config.append(f"http: {json.dumps(f'127.0.0.1:{self.http_port}')}")
        self.province = EmbeddedNats(
            self.root / "province", open_access=True, domain=PROVINCE_DOMAIN, more_config=config
        )
        self.counties: dict[str, EmbeddedNats] = {}

    @property
    def identity(self) -> NatsIdentity:
        """How the province's ingest connects to its server."""
        return NatsIdentity(self.seed)

    def leaf_url_of(self, county_id: str, port: int | None = None) -> str:
        """Where county `county_id`'s server dials the province (via `port` if given), its
        password in the URL."""
        secret, scheme = quote(self.passwords[county_id], safe=""), "nats-leaf" if self.tls is None else "tls"
        return f"{scheme}://{county_id}:{secret}@127.0.0.1:{port or self.leaf_port}"

    def add_county(self, county_id: str, port: int | None = None) -> EmbeddedNats:
        server = EmbeddedNats(
            self.root / f"county-{county_id}",
            open_access=True,
            domain=county_domain(county_id),
            more_config=county_config(county_id, self.leaf_url_of(county_id, port), self.ca),
        )
        self.counties[county_id] = server
        return server

    def stop(self) -> None:
        for server in [*self.counties.values(), self.province]:
            server.stop()
