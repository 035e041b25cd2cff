"""What to call a node on the dashboard: the name of the organisation it is (or speaks for).

A node's id is an operator's slug (`dongguan`); analysts know the outstation by its name
(驻东莞服务站党支部). A node is named after the registered organisation of its own id, else after
the organisations it speaks for (docs/authority.md), joined by 、; None if none is registered.
Organisation names only: nothing personal.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from services.county.authority.speakers import speaker_of
from services.county.db import tables as t
from services.county.queries.common import OrgTree, load_tree


def node_name(tree: OrgTree, node_id: str, org_ids: frozenset[str] | set[str]) -> str | None:
    """The name of `node_id`'s own organisation, else of those it speaks for, else None."""
    if node_id in tree.orgs:
        return tree.name(node_id)
    names = [tree.name(o) for o in sorted(org_ids) if o in tree.orgs]
    return "、".join(names) or None


def node_names(conn: Connection, tree: OrgTree | None = None) -> dict[str, str | None]:
    """Every enrolled node's name (`node_name`)."""
    tree = tree or load_tree(conn)
    n = t.nodes.c
    rows = conn.execute(select(n.node_id, n.org_ids, n.office)).mappings()
    return {r["node_id"]: node_name(tree, r["node_id"], set(speaker_of(r).orgs)) for r in rows}
