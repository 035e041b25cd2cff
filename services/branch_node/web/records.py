"""`GET /api/v1/records`: the node's own recent records, newest first, for the page's 最近记录.

Behind the clerk's sign-in like every other route of the page's API (`web/signin.py`); names are
opened here with the node's key store, ID numbers shown by their last four only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.branch_node.members import MemberIndex
from services.branch_node.records import MAX_LIMIT, RecentRecords
from services.branch_node.refusals import PROTECTED
from services.branch_node.service import NodeService
from services.branch_node.web.signin import Gate
from shared.bounds import MAX_SEQ


def records_router(node: NodeService, gate: Gate) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1", tags=["outstation page"], dependencies=[Depends(gate)], responses=PROTECTED
    )
    recent = RecentRecords(node.log, node.keys, MemberIndex(node.log, node.keys))

    @router.get(
        "/records",
        summary="This node's records, newest first, with their corrections (names opened here)",
    )
    def records(
        before: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="only seqs below this")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    ) -> dict[str, Any]:
        return recent.page(before, limit)

    return router
