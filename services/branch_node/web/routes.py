"""The API the outstation page needs beyond recording: check an event, list members, import a roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from services.branch_node.application import BatchError, NewEvent
from services.branch_node.inputs import parse_json
from services.branch_node.limits import MAX_UPLOAD
from services.branch_node.members import MemberIndex
from services.branch_node.refusals import PROTECTED, REFUSED
from services.branch_node.roster_files import ParsedFile, read_file
from services.branch_node.roster_template import XLSX, template_xlsx
from services.branch_node.service import NodeService
from services.branch_node.web.checks import check_item, dry_run, shown
from services.branch_node.web.signin import Gate
from shared.catalog import EVENT_TYPES
from shared.errors import FieldError

Record = Callable[[list[NewEvent]], Awaitable[list[int]]]

KINDS = {".xlsx": "xlsx", ".csv": "csv", ".jsonl": "jsonl"}
TEMPLATE_NAME = f"attachment; filename=roster-template.xlsx; filename*=UTF-8''{quote('党员名册模板.xlsx')}"

Upload = Annotated[UploadFile, File(description="A roster as .xlsx (first sheet) or .csv; or .jsonl")]
EventType = Annotated[str, Form(alias="type", description="Event type of rows without a `type` column")]
SkipExisting = Annotated[
    bool,
    Form(
        description="Leave out (and count) registrations of members already registered at this node, "
        "known by their ID number; import the rest"
    ),
]


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
    async def preview(
        file: Upload, type_: EventType = "member.registered", skip_existing: SkipExisting = False
    ) -> dict[str, Any]:
        parsed = await _parse(node, file, type_, skip_existing)
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
            "warnings": _by_line(parsed.warnings),
            "skipped": parsed.skipped,
        }

    @router.post(
        "/import",
        status_code=201,
        summary="Append every event of an uploaded file, or none (but those skip_existing leaves out)",
        responses=REFUSED,
    )
    async def import_file(
        file: Upload, type_: EventType = "member.registered", skip_existing: SkipExisting = False
    ) -> Any:
        parsed = await _parse(node, file, type_, skip_existing)
        if not parsed.errors and not parsed.events:
            skipped = f": {len(parsed.skipped)} already registered here" if parsed.skipped else ""
            parsed.errors.append((0, FieldError("file", f"no rows to import{skipped}")))
        if not parsed.errors:
            try:
                seqs = await record(parsed.events)
            except BatchError as exc:
                parsed.errors = [(parsed.lines[i], e) for i, error in exc.errors for e in error.all()]
            else:
                return {
                    "count": len(seqs),
                    "first_seq": seqs[0],
                    "last_seq": seqs[-1],
                    "skipped": len(parsed.skipped),
                    "warnings": len(parsed.warnings),
                }
        return JSONResponse(status_code=422, content={"detail": _by_line(parsed.errors)})

    @router.get(
        "/import/template.xlsx",
        summary="The roster template: Chinese headers, the ID number column as text, an example row",
        response_class=Response,
        responses={200: {"content": {XLSX: {}}, "description": "An .xlsx workbook"}},
    )
    def template() -> Response:
        return Response(
            template_xlsx(),
            media_type=XLSX,
            headers={"Content-Disposition": TEMPLATE_NAME},
        )

    return router


async def _parse(node: NodeService, file: UploadFile, type_: str, skip_existing: bool) -> ParsedFile:
    """Read the upload and check it as appending would, every refused line named."""
    if type_ not in EVENT_TYPES:
        return ParsedFile(errors=[(0, FieldError("type", f"unknown event type {type_!r}"))])
    kind = KINDS.get(PurePath(file.filename or "").suffix.lower())
    if kind is None:
        return ParsedFile(errors=[(0, FieldError("file", "upload an .xlsx, .csv or .jsonl file"))])
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return ParsedFile(errors=[(0, FieldError("file", f"larger than {MAX_UPLOAD >> 20} MB"))])
    parsed = await run_in_threadpool(
        partial(read_file, data, kind, type_, node.keys, skip_existing=skip_existing)
    )
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
