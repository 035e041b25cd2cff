"""`tongxin node …` from the shell: exit codes, messages that name the field, files left alone."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

from tests.e2e.conftest import tongxin
from tests.samples import fund, id_number, registration


def last_seq(data: Path) -> int:
    db = sqlite3.connect(data / "log.db")
    try:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM stored_events").fetchone()[0])
    finally:
        db.close()


def test_init_creates_a_private_key_and_refuses_to_overwrite(cli_node: Path, county_secret: str) -> None:
    assert stat.S_IMODE((cli_node / "node.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((cli_node / "county.secret").stat().st_mode) == 0o600
    key = (cli_node / "node.key").read_text()
    r = tongxin(
        "node",
        "init",
        "--node-id",
        "other",
        "--county-id",
        "jx",
        "--county-secret",
        county_secret,
        "-d",
        str(cli_node),
    )
    assert r.returncode == 2 and "refusing to overwrite" in r.stderr
    assert (cli_node / "node.key").read_text() == key


def test_init_refuses_a_bad_node_id_and_secret(tmp_path: Path, county_secret: str) -> None:
    r = tongxin(
        "node",
        "init",
        "--node-id",
        "Dong Guan",
        "--county-id",
        "jx",
        "--county-secret",
        county_secret,
        "-d",
        str(tmp_path / "a"),
    )
    assert r.returncode == 2 and "node_id" in r.stderr
    r = tongxin(
        "node",
        "init",
        "--node-id",
        "dg",
        "--county-id",
        "jx",
        "--county-secret",
        "abc",
        "-d",
        str(tmp_path / "b"),
    )
    assert r.returncode == 2 and "county_secret" in r.stderr
    assert not (tmp_path / "b" / "node.key").exists()


def test_record_with_fields_and_json(cli_node: Path) -> None:
    r = tongxin(
        "node",
        "record",
        "fund.received",
        "-f",
        "org_id=dongguan",
        "-f",
        "source=host_subsidy",
        "-f",
        "amount_fen=500000",
        "-d",
        str(cli_node),
    )
    assert r.returncode == 0, r.stderr
    assert "seq 1" in r.stdout
    payload = json.dumps(registration(1)["payload"], ensure_ascii=False)
    r = tongxin(
        "node",
        "record",
        "member.registered",
        "--json",
        payload,
        "--occurred-at",
        "2026-01-05",
        "-d",
        str(cli_node),
    )
    assert r.returncode == 0, r.stderr
    assert last_seq(cli_node) == 2


def test_bad_input_exits_2_names_the_field_and_appends_nothing(cli_node: Path) -> None:
    cases = [
        (
            [
                "fund.received",
                "-f",
                "org_id=dongguan",
                "-f",
                "source=host_subsidy",
                "-f",
                "amount_fen=0",
            ],
            "payload.amount_fen",
        ),
        (
            [
                "fund.received",
                "-f",
                "org_id=dongguan",
                "-f",
                "source=lottery",
                "-f",
                "amount_fen=5",
            ],
            "payload.source",
        ),
        (["fund.received", "-f", "org_id=dongguan", "-f", "source=fiscal"], "payload.amount_fen"),
        (["no.such.type", "-f", "x=1"], "type"),
        (["member.returned", "-f", f"member_id={'a' * 32}"], "payload.member_id"),
        (["fund.received", "--json", "{oops"], "--json"),
        (
            [
                "fund.received",
                "-f",
                "org_id=dongguan",
                "-f",
                "source=fiscal",
                "-f",
                "amount_fen=5",
                "--occurred-at",
                "2099-01-01",
            ],
            "occurred_at",
        ),
    ]
    for args, field in cases:
        r = tongxin("node", "record", *args, "-d", str(cli_node))
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert field in r.stderr, (args, r.stderr)
    assert last_seq(cli_node) == 0


def test_import_csv_is_all_or_nothing_with_line_numbers(cli_node: Path, tmp_path: Path) -> None:
    header = (
        "personal.name,personal.id_number,personal.phone,home_branch,outstation,host_location,flowed_out_on\n"
    )
    rows = [
        f"成员{i},{id_number(i)},1380000{i:04d},village-1,dongguan,广东东莞,2019-03-01\n" for i in range(5)
    ]
    bad = rows.copy()
    bad[3] = bad[3].replace("2019-03-01", "2019-13-01")
    csv_file = tmp_path / "roster.csv"
    csv_file.write_text(header + "".join(bad), encoding="utf-8")
    r = tongxin("node", "import", str(csv_file), "--type", "member.registered", "-d", str(cli_node))
    assert r.returncode == 2
    assert "line 5: payload.flowed_out_on" in r.stderr and "nothing was appended" in r.stderr
    assert last_seq(cli_node) == 0
    csv_file.write_text(header + "".join(rows), encoding="utf-8")
    r = tongxin(
        "node",
        "import",
        str(csv_file),
        "--type",
        "member.registered",
        "--dry-run",
        "-d",
        str(cli_node),
    )
    assert r.returncode == 0 and "5 event(s) are valid" in r.stdout and last_seq(cli_node) == 0
    r = tongxin("node", "import", str(csv_file), "--type", "member.registered", "-d", str(cli_node))
    assert r.returncode == 0, r.stderr
    assert last_seq(cli_node) == 5


def test_import_jsonl_reports_bad_json_and_own_history_refusals(cli_node: Path, tmp_path: Path) -> None:
    lines = [
        json.dumps(registration(1), ensure_ascii=False),
        json.dumps(fund(1)),
        "{broken",
        json.dumps(fund(2)),
    ]
    f = tmp_path / "events.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = tongxin("node", "import", str(f), "-d", str(cli_node))
    assert r.returncode == 2 and "line 3" in r.stderr and "not valid JSON" in r.stderr
    twice = [json.dumps(registration(1), ensure_ascii=False)] * 2
    f.write_text("\n".join(twice) + "\n", encoding="utf-8")
    for dry in ([], ["--dry-run"]):  # a dry run applies the log's own rules too
        r = tongxin("node", "import", str(f), *dry, "-d", str(cli_node))
        assert r.returncode == 2 and "line 2: payload.member_id" in r.stderr, (dry, r.stdout, r.stderr)
        assert "already registered" in r.stderr
    assert last_seq(cli_node) == 0


def test_status_and_verify(cli_node: Path) -> None:
    tongxin(
        "node",
        "record",
        "fund.received",
        "-f",
        "org_id=dongguan",
        "-f",
        "source=fiscal",
        "-f",
        "amount_fen=5",
        "-d",
        str(cli_node),
    )
    r = tongxin("node", "status", "--json", "-d", str(cli_node))
    status = json.loads(r.stdout)
    assert status["last_seq"] == 1 and status["backlog"] == 1 and status["nats_reachable"] is False
    r = tongxin("node", "verify", "-d", str(cli_node))
    assert r.returncode == 0 and "1 envelope(s)" in r.stdout


def test_forward_once_without_nats_fails_clearly(cli_node: Path) -> None:
    tongxin(
        "node",
        "record",
        "fund.received",
        "-f",
        "org_id=dongguan",
        "-f",
        "source=fiscal",
        "-f",
        "amount_fen=5",
        "-d",
        str(cli_node),
    )
    r = tongxin("node", "forward", "--once", "--nats", "nats://127.0.0.1:1", "-d", str(cli_node))
    assert r.returncode == 1 and "not forwarded" in r.stderr


def test_help_has_examples() -> None:
    for cmd in ["init", "record", "import", "serve", "forward", "status", "verify", "rotate-key"]:
        r = tongxin("node", cmd, "--help")
        assert r.returncode == 0 and "Example" in r.stdout, cmd
