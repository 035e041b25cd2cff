"""The API the outstation page needs beyond recording: check an event, list members, import a roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.branch_node.application import BatchError, NewEvent
from services.branch_node.inputs import parse_json
from services.branch_node.limits import MAX_UPLOAD
from services.branch_node.members import MemberIndex
from services.branch_node.refusals import PROTECTED, REFUSED
from services.branch_node.roster_files import ParsedFile, read_file
from services.branch_node.service import NodeService
from services.branch_node.web.checks import check_item, dry_run, shown
from services.branch_node.web.signin import Gate
from shared.catalog import EVENT_TYPES
from shared.errors import FieldError

Record = Callable[[list[NewEvent]], Awaitable[list[int]]]

KINDS = {".xlsx": "xlsx", ".csv": "csv", ".jsonl": "jsonl"}

Upload = Annotated[UploadFile, File(description="A roster as .xlsx (first sheet) or .csv; or .jsonl")]
EventType = Annotated[str, Form(alias="type", description="Event type of rows without a `type` column")]


def outstation_router(node: NodeService, record: Record, gate: Gate) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1", tags=["outstation page"], dependencies=[Depends(gate)], responses=PROTECTED
    )
    members = MemberIndex(node.log, node.keys)

    @router.post(
        "/events/check", summary="Check one event as recording would; append nothing", responses=REFUSED
    )
    async def check(request: Request) -> dict[str, Any]:
        try:
            item = parse_json(await request.body())
        except FieldError as exc:
            return {"ok": False, "errors": [exc.to_dict()]}
        _, errors = await run_in_threadpool(check_item, node, item)
        return {"ok": not errors, "errors": [e.to_dict() for e in errors]}

    @router.get("/members", summary="Members registered at this node: name, id, ID number's last 4")
    def registered() -> dict[str, Any]:
        return {"members": msgspec.to_builtins(members.all())}

    @router.post(
        "/import/preview", summary="Parse and check an uploaded file; append nothing", responses=REFUSED
    )
    async def preview(file: Upload, type_: EventType = "member.registered") -> dict[str, Any]:
        parsed = await _parse(node, file, type_)
        rows = [
            {"line": line, "fields": shown(new)}
            for line, new in zip(parsed.lines, parsed.events, strict=True)
        ]
        return {
            "file": file.filename,
            "type": type_,
            "ok": not parsed.errors and bool(rows),
            "rows": rows,
            "errors": _by_line(parsed.errors),
        }

    @router.post(
        "/import",
        status_code=201,
        summary="Append every event of an uploaded file, or none",
        responses=REFUSED,
    )
    async def import_file(file: Upload, type_: EventType = "member.registered") -> Any:
        parsed = await _parse(node, file, type_)
        if not parsed.errors and not parsed.events:
            parsed.errors.append((0, FieldError("file", "no rows to import")))
        if not parsed.errors:
            try:
                seqs = await record(parsed.events)
            except BatchError as exc:
                parsed.errors = [(parsed.lines[i], e) for i, e in exc.errors]
            else:
                return {"count": len(seqs), "first_seq": seqs[0], "last_seq": seqs[-1]}
        return JSONResponse(status_code=422, content={"detail": _by_line(parsed.errors)})

    return router


async def _parse(node: NodeService, file: UploadFile, type_: str) -> ParsedFile:
    """Read the upload and check it as appending would, every refused line named."""
    if type_ not in EVENT_TYPES:
        return ParsedFile(errors=[(0, FieldError("type", f"unknown event type {type_!r}"))])
    kind = KINDS.get(PurePath(file.filename or "").suffix.lower())
    if kind is None:
        return ParsedFile(errors=[(0, FieldError("file", "upload an .xlsx, .csv or .jsonl file"))])
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return ParsedFile(errors=[(0, FieldError("file", f"larger than {MAX_UPLOAD >> 20} MB"))])
    parsed = await run_in_threadpool(read_file, data, kind, type_, node.keys)
    refused = await run_in_threadpool(dry_run, node, parsed.events)
    if refused:
        bad = {i for i, _ in refused}
        parsed.errors = sorted(
            [*parsed.errors, *((parsed.lines[i], e) for i, e in refused)], key=lambda le: le[0]
        )
        parsed.events = [e for i, e in enumerate(parsed.events) if i not in bad]
        parsed.lines = [n for i, n in enumerate(parsed.lines) if i not in bad]
    return parsed


def _by_line(errors: list[tuple[int, FieldError]]) -> list[dict[str, Any]]:
    return [{"line": line, **e.to_dict()} for line, e in errors]
