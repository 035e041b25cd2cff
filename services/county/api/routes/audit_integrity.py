"""/api/v1/audit: integrity endpoints for auditors — verify the archive, an entity's history,
and an export zip to verify offline (docs/audit.md)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from services.county.accounts.roles import AUDIT
from services.county.api.auth import require
from services.county.api.deps import SLUG, ConnDep, MemberIdPath, NodeId, NodeIds, OrgIdPath
from services.county.api.errors import BUSY, NOT_FOUND, refused
from services.county.api.expensive import heavy_job
from services.county.api.models.audit import History, Verified
from services.county.api.responses import ZIP_TYPE, Json, file, ok
from services.county.audit.archive import archive_nodes, verify_archive
from services.county.audit.export import (
    BrokenArchiveError,
    CountyMismatchError,
    Selection,
    UnknownNodeError,
    write_export,
)
from services.county.audit.history import HistoryItem, Kind, history
from services.county.keys import DEFAULT_COUNTY_KEY
from services.county.queries.common import NotFoundError
from shared.bounds import MAX_SEQ
from shared.signing import Signer, Verifier

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[require(*AUDIT)])


def county_signer(request: Request) -> tuple[str | None, Signer | None]:
    """The county's id and key: from the app's state if the service put them there, else from
    TONGXIN_COUNTY_ID and the key file TONGXIN_COUNTY_KEY (if it exists)."""
    state = request.app.state
    county_id = getattr(state, "county_id", None) or os.environ.get("TONGXIN_COUNTY_ID")
    key = getattr(state, "county_key", None)
    if key is None:
        path = FilePath(os.environ.get("TONGXIN_COUNTY_KEY", str(DEFAULT_COUNTY_KEY)))
        key = Signer.load(path) if path.exists() else None
    return county_id, key


def county_identity(request: Request) -> tuple[str | None, Verifier | None]:
    """The county's id and public key (see `county_signer`)."""
    county_id, key = county_signer(request)
    return county_id, Verifier(key.public_key) if key is not None else None


@router.get(
    "/verify",
    summary="Verify the archive: chains, signatures, key rows, county receipts",
    description="Every node's chain from its first enrolled key (following `node.key_rotated`), "
    "the archive's copies of envelope fields, its node_keys rows against the keys the chain "
    "designates, and the county's receipts against the archive and the county key. `ok` is true "
    "only when nothing is wrong; each fault names node, seq and reason. What could not be checked "
    "(no county key or id configured) is listed in `notes`.",
    responses={**ok(Verified), **NOT_FOUND, **BUSY},
)
def verify(
    _: Annotated[None, Depends(heavy_job(""), scope="function")],
    conn: ConnDep,
    request: Request,
    node: Annotated[list[NodeId] | None, Query(description="Only these nodes (repeatable).")] = None,
) -> Json:
    known = archive_nodes(conn)
    for name in node or ():
        if name not in known:
            raise NotFoundError("node", f"unknown node {name!r}")
    county_id, key = county_identity(request)
    return Json(verify_archive(conn, node or known, county_key=key, county_id=county_id).to_dict())


def _history(conn: ConnDep, kind: Kind, entity_id: str) -> Json:
    items: list[HistoryItem] = history(conn, kind, entity_id)
    if not items:
        raise NotFoundError(f"{kind.value}_id", f"no archived event about {kind.value} {entity_id}")
    return Json({"kind": kind.value, "id": entity_id, "items": [i.to_dict() for i in items]})


HISTORY = (
    "Every archived event about it in business order (occurred_at, node, seq), with origin node, "
    "seq, type, hash, occurred/recorded/received times, `receipted` (a county receipt covers it) "
    "and `via` (why it is listed)."
)


@router.get(
    "/history/member/{member_id}",
    summary="A member's history from the archive",
    description=HISTORY + " Includes the member as recruitment candidate and as attendee.",
    responses={**ok(History), **NOT_FOUND},
)
def member_history(conn: ConnDep, member_id: MemberIdPath) -> Json:
    return _history(conn, Kind.MEMBER, member_id)


@router.get(
    "/history/org/{org_id}",
    summary="An organisation's history from the archive",
    description=HISTORY + " Includes every event whose payload names the organisation.",
    responses={**ok(History), **NOT_FOUND},
)
def org_history(conn: ConnDep, org_id: OrgIdPath) -> Json:
    return _history(conn, Kind.ORG, org_id)


@router.get(
    "/export",
    summary="An audit export (zip) to verify offline",
    description="The chosen nodes' envelopes, first keys and county receipts with a manifest "
    "signed by the county key (format in docs/audit.md). Choose a seq range or a date range "
    "(China dates of the node's clock), not both; a range after seq 1 carries its anchor in the "
    "manifest. 409 when the archive is broken before the range, or when the service has no "
    "county key or a county id its receipts were not issued under.",
    response_class=FileResponse,
    responses={
        **file(ZIP_TYPE, "A zip of envelopes.jsonl, keys.json, receipts.jsonl and manifest.json"),
        **NOT_FOUND,
        **refused(409, "The archive's chain is broken before the range, or the county key or id is wrong"),
        **BUSY,
    },
)
def export(
    _: Annotated[None, Depends(heavy_job(""), scope="function")],
    conn: ConnDep,
    request: Request,
    nodes: Annotated[
        list[NodeIds] | None,
        Query(description="Node ids, repeatable or comma-separated (default: all)."),
    ] = None,
    from_seq: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="First seq of each node.")] = None,
    to_seq: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="Last seq of each node.")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="First day recorded.")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day recorded, inclusive.")] = None,
) -> FileResponse:
    chosen = [n for value in nodes or () for n in value.split(",") if n] or None
    for name in chosen or ():
        if not _is_slug(name):
            raise HTTPException(422, [{"field": "nodes", "message": f"not a node id: {name!r}"}])
    county_id, key = county_signer(request)
    if key is None:
        raise HTTPException(
            409, [{"field": "county_key", "message": "the service has no county key to sign with"}]
        )
    folder = FilePath(tempfile.mkdtemp(prefix="tongxin-export-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"tongxin-audit-{county_id or 'county'}-{stamp}.zip"
    try:
        write_export(
            conn,
            Selection(chosen, from_seq, to_seq, date_from, date_to),
            path,
            county_id=county_id,
            county_key=key,
        )
    except UnknownNodeError as exc:
        shutil.rmtree(folder)
        raise NotFoundError(exc.field, exc.message) from None
    except (BrokenArchiveError, CountyMismatchError) as exc:
        shutil.rmtree(folder)
        raise HTTPException(409, [exc.to_dict()]) from None
    except BaseException:
        shutil.rmtree(folder)
        raise
    return FileResponse(
        path,
        media_type=ZIP_TYPE,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder),
    )


def _is_slug(name: str) -> bool:
    return re.fullmatch(SLUG, name) is not None
