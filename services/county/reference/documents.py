"""The reference documents the county hands its nodes (`shared.reference`), built from what it
holds: the organisation tree (events' `orgs` over the loaded register) and, per enrolled node, the
members it co-manages but did not register, their names sealed to that node's current key."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from services.county.authority.speakers import speaker_of
from services.county.db import tables as t
from services.county.personal.store import KeyStore
from services.county.personal.view import KEY_MISSING, UNREADABLE, PersonalView
from services.county.projections.dual_management import co_managers
from services.county.projections.roster import members
from services.county.queries.common import OrgTree, load_tree
from services.county.reference.register import registered
from shared import reference as r
from shared.personal import ERASED
from shared.signing import seal_for
from shared.wire import refs_members_key, refs_orgs_key

NOT_NAMES = frozenset({KEY_MISSING, UNREADABLE, ERASED})
"""What a view shows where it has no name: sent as no name (the node shows its own marker)."""


@dataclass(frozen=True)
class Plain:
    """A document before it is sealed and signed, and a digest of what it says (sealing is
    randomised, so the digest is what tells whether anything changed)."""

    key: str
    content: dict[str, Any]

    @property
    def digest(self) -> str:
        return hashlib.sha256(
            json.dumps(self.content, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()


def tree_entries(conn: Connection, tree: OrgTree | None = None) -> list[dict[str, Any]]:
    """Every organisation, by id, with the node of each outstation (the register's, else an
    enrolled node of the outstation's own id)."""
    tree = tree or load_tree(conn)
    loaded = registered(conn)
    enrolled = set(conn.execute(select(t.nodes.c.node_id)).scalars())
    out = []
    for org_id in sorted(tree.orgs)[: r.MAX_ORGS]:
        org = tree.orgs[org_id]
        node = (loaded.get(org_id) or {}).get("node_id")
        if node is None and org["kind"] == "outstation" and org_id in enrolled:
            node = org_id
        entry = {"org_id": org_id, "kind": org["kind"], "name": str(org["name"])[:200]}
        for k, v in (
            ("parent_id", org["parent_id"]),
            ("node_id", node),
            ("host_location", org["host_location"]),
        ):
            if v:
                entry[k] = str(v)[:200]
        out.append(entry)
    return out


def current_keys(conn: Connection) -> dict[str, tuple[str, str]]:
    """Node id → (key id, public key hex) of each enrolled node's current signing key."""
    c = t.node_keys.c
    rows = conn.execute(
        select(c.node_id, c.key_id, c.public_key, c.valid_from_seq)
        .where(c.valid_to_seq.is_(None), c.revoked_from_seq.is_(None))
        .order_by(c.node_id, c.valid_from_seq)
    )
    return {node: (key_id, public) for node, key_id, public, _ in rows}


def co_managed(conn: Connection, tree: OrgTree, node_id: str, orgs: frozenset[str]) -> list[dict[str, Any]]:
    """The members whose co-managers include an organisation `orgs` names, or a host organisation
    under one, and that another node registered: id, name in clear (or None), home branch, status,
    roles; by name."""
    hosts = {o for o, row in tree.orgs.items() if row["kind"] == "host_org" and row["parent_id"] in orgs}
    wanted = sorted(orgs | hosts)
    cm, m = co_managers.c, members.c
    rows = conn.execute(
        select(cm.member_id, cm.role, m.name, m.personal, m.home_branch, m.status, m.registered_by)
        .join(members, members.c.member_id == cm.member_id)
        .where(cm.org_id.in_(wanted), m.registered_by != node_id)
        .order_by(cm.member_id, cm.role)
    ).mappings()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = found.setdefault(
            row["member_id"],
            {
                "member_id": row["member_id"],
                "name": row["name"],
                "personal": row["personal"],
                "home_branch": row["home_branch"],
                "status": row["status"],
                "roles": [],
            },
        )
        if row["role"] not in item["roles"]:
            item["roles"].append(row["role"])
    return list(found.values())


def build(conn: Connection, county_id: str, store: KeyStore | None) -> list[Plain]:
    """The tree and every enrolled node's co-managed members, not yet sealed or signed."""
    tree = load_tree(conn)
    docs = [Plain(refs_orgs_key(county_id), {"county_id": county_id, "orgs": tree_entries(conn, tree)})]
    keys = current_keys(conn)
    view = PersonalView(store)
    for row in conn.execute(select(t.nodes.c.node_id, t.nodes.c.org_ids, t.nodes.c.office)).mappings():
        node_id = row["node_id"]
        if node_id not in keys:
            continue
        items = co_managed(conn, tree, node_id, speaker_of(row).orgs)
        view.names(conn, items)
        items.sort(key=lambda i: (i.get("name") or "", i["member_id"]))
        for item in items:
            if item.get("name") in NOT_NAMES:
                item["name"] = None
        content = {
            "county_id": county_id,
            "node_id": node_id,
            "sealed_to": keys[node_id][0],
            "public_key": keys[node_id][1],
            "members": items[: r.MAX_CO_MANAGED],
        }
        docs.append(Plain(refs_members_key(county_id, node_id), content))
    return docs


def finish(plain: Plain, at: str) -> r.OrgTreeDoc | r.CoManagedDoc:
    """The document as it goes on NATS (unsigned): names sealed to the node's key."""
    c = plain.content
    if "orgs" in c:
        return r.OrgTreeDoc(at=at, county_id=c["county_id"], orgs=[r.OrgEntry(**o) for o in c["orgs"]])
    public = bytes.fromhex(c["public_key"])
    entries = []
    for m in c["members"]:
        box = None
        if m["name"]:
            box = base64.b64encode(seal_for(public, str(m["name"]).encode("utf-8"))).decode("ascii")
        entries.append(
            r.CoManaged(
                member_id=m["member_id"],
                name_box=box,
                home_branch=m["home_branch"],
                status=m["status"],
                roles=m["roles"],
            )
        )
    return r.CoManagedDoc(
        at=at, county_id=c["county_id"], node_id=c["node_id"], sealed_to=c["sealed_to"], members=entries
    )
