"""A province above its counties on NATS: each county's server (or cluster) its own JetStream
domain, joined to the province's server as a leafnode (docs/province.md).

The county dials out to the province (`county_config`): a county needs no open port, and the
link carries only JetStream's own traffic — the province's stream sources the county's stream
through `$JS.<county domain>.API`. Tongxin's own subjects (`tongxin.>`: events, receipts,
requests, keys, archive) never cross the link in either direction (`deny_imports` and
`deny_exports` on the county's side), so the province can neither read a county's nodes' traffic
nor publish into it, and no county's stream captures another county's events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tongxin.natsd import EmbeddedNats, free_port

PROVINCE_DOMAIN = "province"
"""The province server's JetStream domain."""

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


def province_config(leaf_port: int, host: str = "127.0.0.1") -> list[str]:
    """The province server's `leafnodes` block: where the counties' servers connect."""
    return [f"leafnodes {{ listen: {json.dumps(f'{host}:{leaf_port}')} }}"]


def county_config(county_id: str, province_leaf_url: str) -> list[str]:
    """A county server's `leafnodes` block: its one remote, the province, with Tongxin's own
    subjects kept local and the county's JetStream API read-only to the province (`READ_ONLY`)."""
    api = f"$JS.{county_domain(county_id)}.API."
    remote = {
        "url": province_leaf_url,
        "deny_imports": [*LOCAL_ONLY, *(api + call for call in READ_ONLY)],
        "deny_exports": LOCAL_ONLY,
    }
    return [f"leafnodes {{ reconnect: '250ms', remotes: [{json.dumps(remote)}] }}"]


@dataclass
class ProvinceServers:
    """The province's server and one server per county, all on this machine (tests, the demo).

    `leaf_url_of` says where a county's server dials the province; a test puts a cuttable link
    there (tests/province/link.py). Open access: the NATS users of each county server are its own
    (docs/operations.md §9); a production leaf link authenticates (docs/province.md)."""

    root: Path
    county_ids: tuple[str, ...]
    leaf_port: int = 0

    def __post_init__(self) -> None:
        self.leaf_port = self.leaf_port or free_port()
        self.province = EmbeddedNats(
            self.root / "province",
            open_access=True,
            domain=PROVINCE_DOMAIN,
            more_config=province_config(self.leaf_port),
        )
        self.counties: dict[str, EmbeddedNats] = {}

    @property
    def leaf_url(self) -> str:
        return f"nats-leaf://127.0.0.1:{self.leaf_port}"

    def add_county(self, county_id: str, leaf_url: str | None = None) -> EmbeddedNats:
        server = EmbeddedNats(
            self.root / f"county-{county_id}",
            open_access=True,
            domain=county_domain(county_id),
            more_config=county_config(county_id, leaf_url or self.leaf_url),
        )
        self.counties[county_id] = server
        return server

    def stop(self) -> None:
        for server in [*self.counties.values(), self.province]:
            server.stop()
