"""Importing a roster as an office has it, on a real node: Excel's dates and dates typed as text,
an ID number Excel made a number, members already registered here skipped (page API and CLI),
and the two templates."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec
import openpyxl
import pytest
from fastapi.testclient import TestClient
from openpyxl.cell.cell import Cell

from services.branch_node.api import create_app
from services.branch_node.roster_cells import NUMBER_ID
from services.branch_node.roster_template import EXAMPLE, HEADERS, template_csv
from services.branch_node.service import NodeService
from tests.clerk import BASE_URL, clerk_client
from tests.e2e.conftest import tongxin
from tests.samples import id_number, xlsx

STATIC = Path(__file__).resolve().parents[2] / "services/branch_node/web/static"
HEADER = ["姓名", "身份证号", "所属支部", "流入地", "外出日期"]


def row(i: int, out_on: Any = "2019-03-01") -> list[Any]:
    return [f"成员{i}", id_number(i), "v-shangtang", "广东东莞", out_on]


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return clerk_client(node)


def upload(client: TestClient, path: str, data: bytes, name: str = "名册.xlsx", **form: str) -> Any:
    return client.post(path, files={"file": (name, data)}, data={"type": "member.registered", **form})


def flowed_out_on(node: NodeService) -> list[str]:
    return [msgspec.json.decode(data)["payload"]["flowed_out_on"] for _, data in node.envelopes.after(0, 100)]


def test_dates_as_excel_and_offices_write_them_are_imported(client: TestClient, node: NodeService) -> None:
    dates = [datetime(2018, 5, 6), 43525, "2021/5/6", "2021-5-6", "2019.03.01", "2019年3月1日", "2019年3月"]
    data = xlsx([row(i, d) for i, d in enumerate(dates)], HEADER)
    preview = upload(client, "/api/v1/import/preview", data).json()
    assert preview["ok"] is True and preview["errors"] == []
    assert [r["fields"]["flowed_out_on"] for r in preview["rows"]] == [
        "2018-05-06",
        "2019-03-01",
        "2021-05-06",
        "2021-05-06",
        "2019-03-01",
        "2019-03-01",
        "2019-03-01",
    ]
    (warning,) = preview["warnings"]  # the month alone: read as its 1st, and said so
    assert warning["line"] == 8 and warning["field"] == "payload.flowed_out_on"
    assert "read as the 1st (2019-03-01)" in warning["message"]
    r = upload(client, "/api/v1/import", data)
    assert r.status_code == 201 and r.json()["count"] == 7 and r.json()["warnings"] == 1
    assert flowed_out_on(node)[-1] == "2019-03-01"


def test_every_error_of_every_line_and_a_numeric_id_number_said_plainly(
    client: TestClient, node: NodeService
) -> None:
    bad = ["", 4.31102198903150898e17, "上塘村", "广东东莞", "2019/2/30"]
    worse = [f"成员{3}", id_number(3)[:-1] + "0", "v-1", "", "去年"]
    data = xlsx([row(1), bad, worse], HEADER)
    preview = upload(client, "/api/v1/import/preview", data).json()
    assert [(e["line"], e["field"]) for e in preview["errors"]] == [
        (3, "payload.personal.name"),
        (3, "payload.personal.id_number"),
        (3, "payload.home_branch"),
        (3, "payload.flowed_out_on"),
        (4, "payload.personal.id_number"),
        (4, "payload.flowed_out_on"),
    ]
    assert preview["errors"][1]["message"] == NUMBER_ID
    assert preview["errors"][4]["message"] != NUMBER_ID  # a typo in text: its own reason
    r = upload(client, "/api/v1/import", data)
    assert r.status_code == 422 and len(r.json()["detail"]) == 6
    assert node.log.last_seq() == 0


def test_skip_existing_imports_the_rest_and_counts_who_was_skipped(
    client: TestClient, node: NodeService
) -> None:
    first = upload(client, "/api/v1/import", xlsx([row(1), row(2)], HEADER))
    assert first.status_code == 201
    master = xlsx([row(1), row(3), row(2), row(4)], HEADER)  # the master roster: 1 and 2 are here
    refused = upload(client, "/api/v1/import", master)
    assert refused.status_code == 422 and [e["line"] for e in refused.json()["detail"]] == [2, 4]
    preview = upload(client, "/api/v1/import/preview", master, skip_existing="true").json()
    assert preview["ok"] is True and preview["skipped"] == [2, 4]
    assert [r["line"] for r in preview["rows"]] == [3, 5]
    r = upload(client, "/api/v1/import", master, skip_existing="true")
    assert r.status_code == 201
    assert r.json() == {"count": 2, "first_seq": 3, "last_seq": 4, "skipped": 2, "warnings": 0}
    names = [m["name"] for m in client.get("/api/v1/members").json()["members"]]
    assert names == ["成员1", "成员2", "成员3", "成员4"]
    again = upload(client, "/api/v1/import", master, skip_existing="true")
    assert again.status_code == 422
    assert again.json()["detail"][0]["message"] == "no rows to import: 4 already registered here"
    assert node.log.last_seq() == 4


def test_the_xlsx_template_has_chinese_headers_a_text_id_column_and_a_date(
    client: TestClient, node: NodeService
) -> None:
    r = client.get("/api/v1/import/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    assert "attachment" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS and "外出日期" in HEADERS
    id_column = HEADERS.index("身份证号") + 1
    letter = openpyxl.utils.get_column_letter(id_column)
    assert sheet.column_dimensions[letter].number_format == "@"  # what the clerk types stays text
    example = sheet.cell(row=2, column=id_column)
    assert example.number_format == "@" and example.value == "11010519491231002X"
    out_on = sheet.cell(row=2, column=HEADERS.index("外出日期") + 1)
    assert isinstance(out_on, Cell) and out_on.is_date and out_on.value == datetime(2019, 3, 1)
    assert book.sheetnames[1] == "填写说明"
    preview = upload(client, "/api/v1/import/preview", r.content).json()  # the example row reads
    assert preview["ok"] is True and preview["rows"][0]["fields"]["personal"]["name"] == EXAMPLE[0]
    assert node.log.last_seq() == 0


def test_the_csv_template_has_a_bom_and_reads_as_the_xlsx_one(client: TestClient) -> None:
    served = client.get("/static/roster-template.csv")
    assert served.content == (STATIC / "roster-template.csv").read_bytes() == template_csv()
    assert served.content.startswith(b"\xef\xbb\xbf\xe5\xa7\x93\xe5\x90\x8d")  # BOM, 姓名
    preview = upload(client, "/api/v1/import/preview", served.content, "模板.csv").json()
    assert preview["ok"] is True
    assert preview["rows"][0]["fields"]["flowed_out_on"] == date(2019, 3, 1).isoformat()


def test_the_template_and_the_import_are_the_clerks_only(node: NodeService) -> None:
    anonymous = TestClient(create_app(node), base_url=BASE_URL)
    assert anonymous.get("/api/v1/import/template.xlsx").status_code == 401
    for path in ("/api/v1/import/preview", "/api/v1/import"):
        r = upload(anonymous, path, xlsx([row(1)], HEADER), skip_existing="true")
        assert r.status_code == 401, path
    assert node.log.last_seq() == 0


def test_cli_skip_existing_imports_the_rest(node_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "名册.xlsx"
    book.write_bytes(xlsx([row(1)], HEADER))
    args = ["--type", "member.registered", "-d", str(node_dir)]
    assert tongxin("node", "import", str(book), *args).returncode == 0
    book.write_bytes(xlsx([row(1), row(2, "2019年3月"), row(3, 43525)], HEADER))
    refused = tongxin("node", "import", str(book), *args)
    assert refused.returncode == 2 and "line 2: payload.member_id" in refused.stderr
    r = tongxin("node", "import", str(book), *args, "--skip-existing")
    assert r.returncode == 0, r.stderr
    assert "appended 2 event(s), seq 2..3; 1 already registered here, skipped" in r.stdout
    assert "line 3: warning: payload.flowed_out_on: '2019年3月' gives a month" in r.stderr
