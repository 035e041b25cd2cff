"""/api/v1/nodes: enrolled branch nodes and their health (for operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.county.accounts.roles import Role
from services.county.api.auth import require
from services.county.api.deps import SLUG, ConnDep
from services.county.api.errors import NOT_FOUND
from services.county.api.models.ops import NodeHealth, Nodes
from services.county.api.responses import Json, ok
from services.county.queries import node_health as q

router = APIRouter(
    prefix="/api/v1/nodes", tags=["nodes"], dependencies=[require(Role.ANALYST, Role.OPERATOR)]
)

HEALTH = """Per node: `name`, the name of the organisation it is (or speaks for); `last_seq`
archived and when it arrived (`last_seen`) and was recorded
(`last_recorded_at`); `lag_s` = last_seen − last_recorded_at; `held` envelopes waiting behind a
gap and the `gaps` (missing seq ranges), `missing` (the seqs in them), `resend_requests` (how often
the county asked the node to re-send a gap) and `repairing` (the gap it is asking for now); open
`quarantined` messages, garbage on the node's subject included; `max_skew_s`, the most the
node's clock was seen ahead of the county's; `last_heard`, the latest arrival of anything from
the node, and `silent_s`, the seconds since; `last_receipt`, the latest receipt the county
signed for the node (`seq`, `issued_at`), `null` if none. Times are UTC."""


@router.get("", summary="Every enrolled node and its health", description=HEALTH, responses=ok(Nodes))
def list_nodes(conn: ConnDep) -> Json:
    return Json(q.node_health(conn))


@router.get(
    "/{node_id}",
    summary="One node's health",
    description=HEALTH,
    responses={**ok(NodeHealth), **NOT_FOUND},
)
def node(conn: ConnDep, node_id: Annotated[str, Path(pattern=SLUG, description="The node id.")]) -> Json:
    return Json(q.node_health(conn, node_id)["items"][0])
