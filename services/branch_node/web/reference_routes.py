"""What the outstation page's pickers read: the county's organisation tree and the members a clerk
may pick (this node's own, opened with its key store, and the ones it co-manages, from the
county's reference data), all from the node's own files, so they answer offline too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from services.branch_node.members import MemberIndex
from services.branch_node.reference import cache_of
from services.branch_node.refusals import PROTECTED
from services.branch_node.service import NodeService
from services.branch_node.web.signin import Gate
from shared import reference as r
from shared.catalog.base import OrgKind
from shared.catalog.status import Status

MAX_LIMIT = 5000
"""Items one answer holds at most (an attendee list holds 5,000 at most)."""

Search = Annotated[
    str, Query(max_length=50, description="Part of a Chinese name or of a code (case does not matter).")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items at most.")]


def _matches(q: str, *texts: str | None) -> bool:
    q = q.strip().lower()
    return not q or any(q in (t or "").lower() for t in texts)


def _org_name(orgs: dict[str, r.OrgEntry], org_id: str | None) -> str | None:
    found = orgs.get(org_id) if org_id else None
    return found.name if found else None


def reference_router(node: NodeService, gate: Gate) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/reference",
        tags=["outstation page"],
        dependencies=[Depends(gate)],
        responses=PROTECTED,
    )
    cache = cache_of(node)
    own = MemberIndex(node.log, node.keys)

    def tree() -> tuple[r.OrgTreeDoc | None, dict[str, r.OrgEntry]]:
        doc = cache.held(r.OrgTreeDoc)
        return doc, {o.org_id: o for o in doc.orgs} if doc else {}

    @router.get("/orgs", summary="The county's organisations by Chinese name or code (the cached tree)")
    def orgs(
        q: Search = "",
        kind: Annotated[list[OrgKind] | None, Query(max_length=6, description="Only these kinds.")] = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        doc, by_id = tree()
        kinds = set(kind or [])
        found = [
            {
                "org_id": o.org_id,
                "kind": o.kind.value,
                "name": o.name,
                "parent_id": o.parent_id,
                "parent_name": _org_name(by_id, o.parent_id),
                "node_id": o.node_id,
                "host_location": o.host_location,
            }
            for o in sorted(by_id.values(), key=lambda o: (o.name, o.org_id))
            if (not kinds or o.kind in kinds) and _matches(q, o.name, o.org_id)
        ]
        county = next((o for o in by_id.values() if o.kind is OrgKind.COUNTY_COMMITTEE), None)
        here = next(
            (
                o
                for o in by_id.values()
                if o.kind is OrgKind.OUTSTATION and node.node_id in (o.node_id, o.org_id)
            ),
            None,
        )
        return {
            "county": {"id": node.config.county_id, "name": county.name if county else None},
            "node": {
                "id": node.node_id,
                "org_id": here.org_id if here else None,
                "name": here.name if here else None,
            },
            "as_of": doc.at if doc else None,
            "verified": cache.verified(doc) if doc else False,
            "total": len(found),
            "items": found[:limit],
        }

    @router.get(
        "/members",
        summary="Members a clerk may pick, by name: this node's own and those it co-manages",
    )
    async def members(
        q: Search = "",
        status: Annotated[
            list[Status] | None, Query(max_length=4, description="Only these statuses.")
        ] = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        summaries = await run_in_threadpool(own.all)
        co = await run_in_threadpool(cache.members, node.signer)
        _, by_id = tree()
        wanted = {s.value for s in status or []}
        mine = {m.member_id for m in summaries}
        items = [
            {
                "member_id": m.member_id,
                "name": m.name,
                "id_tail": m.id_tail,
                "home_branch": m.home_branch,
                "status": m.status,
                "source": "own",
            }
            for m in summaries
        ] + [{**m, "id_tail": None, "source": "co_managed"} for m in co if m["member_id"] not in mine]
        found = []
        for item in sorted(items, key=lambda i: (i["name"], i["member_id"])):
            if (not wanted or item["status"] in wanted) and _matches(q, item["name"]):
                found.append({**item, "home_branch_name": _org_name(by_id, item["home_branch"])})
        return {"total": len(found), "items": found[:limit]}

    return router
