"""`tongxin node record` and `node import` against hostile values (issue 13): each exits 2 with a
message naming the field and appends nothing, never a traceback; JSON Lines split at newlines only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import tongxin
from tests.e2e.test_node_cli import last_seq
from tests.samples import fund

FUND = ["-f", "org_id=dongguan", "-f", "source=fiscal", "-f", "amount_fen=5"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["fund.received", *FUND, "-f", "note=a\x1b[2Jb"], "payload.note"),
        (["fund.received", *FUND, "-f", "note=a\x7f"], "payload.note"),
        (["fund.received", *FUND, "--occurred-at", "0001-01-01"], "occurred_at"),
        (["fund.received", "--json", "[" * 50_000 + "]" * 50_000], "--json"),
        (["fund.received", "--json", "[1]", *FUND], "--json"),
        (["[/]", "-f", "x=1"], "type"),
    ],
)
def test_a_hostile_value_exits_2_naming_the_field_and_appends_nothing(
    cli_node: Path, args: list[str], field: str
) -> None:
    r = tongxin("node", "record", *args, "-d", str(cli_node))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert field in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert last_seq(cli_node) == 0
    r = tongxin("node", "record", "fund.received", *FUND, "-d", str(cli_node))
    assert r.returncode == 0, r.stderr


def test_import_splits_json_lines_at_newlines_only(cli_node: Path, tmp_path: Path) -> None:
    notes = ["行\u2028分隔", "段\u2029分隔", "tab\there"]
    lines = [
        json.dumps(fund(i) | {"payload": fund(i)["payload"] | {"note": n}}, ensure_ascii=False)
        for i, n in enumerate(notes)
    ]
    f = tmp_path / "events.jsonl"
    f.write_bytes("\r\n".join(lines).encode())
    r = tongxin("node", "import", str(f), "-d", str(cli_node))
    assert r.returncode == 0, r.stderr
    assert "appended 3 event(s)" in r.stdout and last_seq(cli_node) == 3


def test_import_refuses_a_huge_csv_cell_and_a_c1_character_by_line(cli_node: Path, tmp_path: Path) -> None:
    f = tmp_path / "funds.csv"
    f.write_text(
        "type,org_id,source,amount_fen,note\nfund.received,dongguan,fiscal,5," + "x" * 200_000 + "\n"
    )
    r = tongxin("node", "import", str(f), "-d", str(cli_node))
    assert r.returncode == 2 and "file: line 2" in r.stderr and "Traceback" not in r.stderr, r.stderr
    f.write_text(
        "type,org_id,source,amount_fen,note\nfund.received,dongguan,fiscal,5,ok\nfund.received,dongguan,fiscal,5,a\u0085b\n"
    )
    r = tongxin("node", "import", str(f), "-d", str(cli_node))
    assert r.returncode == 2 and "line 3: payload.note" in r.stderr, r.stderr
    assert last_seq(cli_node) == 0
