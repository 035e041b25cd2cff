"""The node's HTTP edges against hostile values (issue 13): too deep, out of range, control
characters, lone surrogates, ids with a trailing newline, odd line breaks in files. Each is a 4xx
(or a refused line) naming the field, never a 500, and nothing is half-written: the node records
the next good event as before."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.branch_node import roster_files
from services.branch_node.service import NodeService
from shared import envelope
from tests.clerk import clerk_client
from tests.samples import fund, id_number, registration, xlsx

DEEP = b'{"type":"fund.received","payload":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return clerk_client(node, raise_server_exceptions=False)


def member(**personal: str) -> dict[str, Any]:
    item = registration(1)
    item["payload"]["personal"] |= personal
    return item


def with_payload(item: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return item | {"payload": item["payload"] | fields}


def body(item: dict[str, Any]) -> bytes:
    return json.dumps(item, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("sent", "status", "field"),
    [
        (DEEP, 400, "body"),
        (b'{"type":"fund.received","payload":{"amount_fen":' + b"9" * 5_000 + b"}}", 400, "body"),
        (b'{"type":"fund.received","payload":{"note":"\\ud800"}}', 400, "body"),
        (body(member(name="张\x00三")), 422, "payload.personal.name"),
        (body(with_payload(registration(1), host_location="广东\x1b[31m东莞")), 422, "payload.host_location"),
        (body(with_payload(fund(1), note="a\x7fb")), 422, "payload.note"),
        (body(with_payload(fund(1), note="a\x85b")), 422, "payload.note"),
        (body(fund(1) | {"occurred_at": "0001-01-01T00:00:00+00:00"}), 422, "occurred_at"),
        (body(fund(1) | {"occurred_at": "1899-12-31T00:00:00+00:00"}), 422, "occurred_at"),
        (body(with_payload(registration(1), flowed_out_on="1850-01-01")), 422, "payload.flowed_out_on"),
        (body(with_payload(fund(1), org_id="dongguan\n")), 422, "payload.org_id"),
        (body(member(id_number=id_number(1) + "\n")), 422, "payload.personal.id_number"),
        (
            # full-width digits, the check digit X: `\d` took them and the HMAC's ASCII failed (500)
            body(member(id_number=id_number(8).translate({c: c + 0xFEE0 for c in range(48, 58)}))),
            422,
            "payload.personal.id_number",
        ),
        (body(member(phone="13800000000\n")), 422, "payload.personal.phone"),
        (body(with_payload(fund(1), amount_fen=10**30)), 422, "payload.amount_fen"),
    ],
)
def test_a_hostile_value_is_a_4xx_naming_the_field_and_the_node_records_on(
    client: TestClient, node: NodeService, sent: bytes, status: int, field: str
) -> None:
    assert client.post("/api/v1/events", json=fund(0)).status_code == 201
    r = client.post("/api/v1/events", content=sent, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["detail"][0]["field"] == field
    assert node.log.last_seq() == 1
    assert client.post("/api/v1/events", json=fund(2)).status_code == 201, "the node still records"
    assert node.log.last_seq() == 2


def test_text_keeps_tab_newline_and_the_unicode_line_separators(
    client: TestClient, node: NodeService
) -> None:
    note = "第一行\n第二行\t缩进\u2028行分隔\u2029段分隔"
    r = client.post("/api/v1/events", json=with_payload(fund(1), note=note))
    assert r.status_code == 201, r.text
    ((_, data),) = node.envelopes.after(0, 1)
    env = envelope.decode(data)
    assert json.loads(bytes(env.payload))["note"] == note


def test_a_batch_with_one_control_character_appends_nothing(client: TestClient, node: NodeService) -> None:
    bad = registration(2)
    bad["payload"]["personal"]["name"] = "李\x07四"
    r = client.post("/api/v1/events/batch", json={"events": [registration(1), bad, fund(1)]})
    assert r.status_code == 422
    assert [(e["index"], e["field"]) for e in r.json()["detail"]] == [(1, "payload.personal.name")]
    assert node.log.last_seq() == 0


def test_the_page_check_answers_a_deep_or_hostile_body_naming_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/events/check", content=DEEP, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == {
        "ok": False,
        "errors": [{"field": "body", "message": "nested deeper than 32 levels"}],
    }
    r = client.post("/api/v1/events/check", json=member(name="张\x00三"))
    assert r.status_code == 200 and [e["field"] for e in r.json()["errors"]] == ["payload.personal.name"]


def upload(client: TestClient, name: str, data: bytes, path: str = "/api/v1/import/preview") -> Any:
    return client.post(path, files={"file": (name, data)}, data={"type": "member.registered"})


def test_json_lines_split_only_at_newlines(client: TestClient, node: NodeService) -> None:
    """Issue 13 case 6: `splitlines()` cut a line at U+2028, U+2029 or U+0085 inside a string."""
    lines = [
        body(with_payload(fund(1), note="行\u2028分隔")),
        body(with_payload(fund(2), note="段\u2029分隔")),
        body(with_payload(fund(3), note="下一行\u0085")),  # a C1 control: refused, on its own line
        body(fund(4)),
    ]
    data = b"\r\n".join(lines) + b"\r\n"
    preview = upload(client, "events.jsonl", data).json()
    assert [r["line"] for r in preview["rows"]] == [1, 2, 4]
    assert [(e["line"], e["field"]) for e in preview["errors"]] == [(3, "payload.note")]
    del lines[2]
    r = upload(client, "events.jsonl", b"\n".join(lines), "/api/v1/import")
    assert r.status_code == 201 and r.json()["count"] == 3
    notes = [json.loads(d)["payload"]["note"] for _, d in node.envelopes.after(0, 10)]
    assert notes == ["行\u2028分隔", "段\u2029分隔", ""]


def test_a_deep_line_and_a_huge_csv_cell_are_refused_by_line_not_by_a_500(
    client: TestClient, node: NodeService
) -> None:
    jsonl = body(fund(1)) + b"\n" + DEEP + b"\n"
    preview = upload(client, "events.jsonl", jsonl).json()
    assert [(e["line"], e["message"]) for e in preview["errors"]] == [(2, "nested deeper than 32 levels")]
    csv = b"type,org_id,source,amount_fen,note\nfund.received,dongguan,fiscal,5," + b"x" * 200_000 + b"\n"
    r = upload(client, "funds.csv", csv, "/api/v1/import")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    assert node.log.last_seq() == 0


def claiming(book: bytes, ref: str) -> bytes:
    """The workbook with its sheet claiming the dimension `ref` (openpyxl's read-only mode trusts it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), data)
            zout.writestr(item, data)
    return out.getvalue()


HEADER = ["姓名", "身份证号", "所属支部", "外出日期"]


def roster(n: int) -> list[list[Any]]:
    return [[f"成员{i}", id_number(i), "village-1", "2019-03-01"] for i in range(n)]


def test_a_workbook_is_read_within_its_row_and_column_caps(
    client: TestClient, node: NodeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = claiming(xlsx(roster(2), HEADER), "A1:XFD1048576")  # 16,384 columns claimed
    preview = upload(client, "名册.xlsx", huge).json()
    assert preview["ok"] is True and [r["line"] for r in preview["rows"]] == [2, 3]
    monkeypatch.setattr(roster_files, "MAX_ROWS", 3)
    r = upload(client, "名册.xlsx", xlsx(roster(4), HEADER), "/api/v1/import")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    wide = xlsx(roster(1), [*HEADER, *[f"extra{i}" for i in range(70)]])
    r = upload(client, "名册.xlsx", wide, "/api/v1/import")
    assert r.status_code == 422 and "columns" in r.json()["detail"][0]["message"]
    assert node.log.last_seq() == 0
