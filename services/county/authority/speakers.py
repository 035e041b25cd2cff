"""Who each node is, as its enrolment says: read from the `nodes` table, written by `enrol`.

A node's organisations (`org_ids`, a JSON array) and whether it is the county office's
(`office`) are fixed when it is enrolled, as its first key is: they decide which of its events
the projections apply, for every event it ever sent, so changing them would re-decide the past.
A node enrolled before they existed has both NULL and speaks as `Speaker.default` (the
organisation of its own id) until they are declared, once (`registry.enrol`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from services.county.authority.rules import Speaker
from services.county.authority.screen import Speakers
from services.county.db import tables as t
from shared.errors import FieldError
from shared.ids import is_slug


def speaker_of(row: Any) -> Speaker:
    """The speaker of a `nodes` row (its `node_id`, `org_ids`, `office`)."""
    if row["org_ids"] is None:
        return Speaker.default(row["node_id"])
    return Speaker(row["node_id"], frozenset(json.loads(row["org_ids"])), bool(row["office"]))


def load(conn: Connection) -> Speakers:
    """Every enrolled node's speaker (one small query: read once per transaction, never cached
    across them, so a node enrolled meanwhile is known)."""
    n = t.nodes.c
    rows = conn.execute(select(n.node_id, n.org_ids, n.office)).mappings()
    return Speakers({r["node_id"]: speaker_of(r) for r in rows})


def authority(node_id: str, org_ids: Sequence[str] | None, office: bool) -> Speaker:
    """The speaker enrolment records: `org_ids` (default: the node's own id), checked as slugs."""
    orgs = list(org_ids) if org_ids else [node_id]
    for org in orgs:
        if not is_slug(org):
            raise FieldError("org_id", f"{org!r} is not an organisation id (a slug such as dongguan)")
    return Speaker(node_id, frozenset(orgs), office)


def columns(speaker: Speaker) -> dict[str, Any]:
    """The `nodes` columns that record a speaker."""
    return {"org_ids": json.dumps(sorted(speaker.orgs)), "office": speaker.office}
