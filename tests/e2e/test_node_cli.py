"""`tongxin node …` from the shell: exit codes, messages that name the field, files left alone;
what status and forward say the county has confirmed, and a fork."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

from services.branch_node.service import NodeService
from shared import receipt
from shared.transport import connect
from shared.wire import receipts_subject
from tests.county_receipts import accept, county_receipt
from tests.e2e.conftest import TONGXIN, tongxin
from tests.samples import fund, id_number, registration
from tongxin.natsd import EmbeddedNats


def last_seq(data: Path) -> int:
    db = sqlite3.connect(data / "log.db")
    try:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM stored_events").fetchone()[0])
    finally:
        db.close()


def test_init_creates_a_private_key_and_refuses_to_overwrite(cli_node: Path, county_secret: str) -> None:
    assert stat.S_IMODE((cli_node / "node.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((cli_node / "personal.db").stat().st_mode) == 0o600
    assert not (cli_node / "county.secret").exists()  # a node holds no county secret
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


def test_init_refuses_a_bad_node_id_and_ignores_a_county_secret(tmp_path: Path, county_secret: str) -> None:
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
    assert r.returncode == 0 and "--county-secret is ignored" in r.stderr
    assert not (tmp_path / "b" / "county.secret").exists()


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


def record_fund(data: Path) -> None:
    r = tongxin(
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
        str(data),
    )
    assert r.returncode == 0, r.stderr


def test_status_and_verify(cli_node: Path) -> None:
    record_fund(cli_node)
    r = tongxin("node", "status", "--json", "-d", str(cli_node))
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["last_seq"] == 1 and status["backlog"] == 1 and status["nats_reachable"] is False
    assert (status["waiting"], status["unconfirmed"], status["confirmed_seq"], status["fork"]) == (
        1,
        0,
        0,
        None,
    )
    r = tongxin("node", "status", "-d", str(cli_node))
    assert r.returncode == 0 and "waiting to be sent: 1" in r.stdout and "FORKED" not in r.stdout
    r = tongxin("node", "verify", "-d", str(cli_node))
    assert r.returncode == 0 and "1 envelope(s)" in r.stdout


def test_status_tells_confirmed_from_sent_and_exits_3_on_a_fork(cli_node: Path) -> None:
    for _ in range(3):
        record_fund(cli_node)
    node = NodeService(cli_node)
    try:
        node.envelopes.advance(3)  # JetStream acknowledged all three
        accept(node, 2)  # the county holds 1..2
    finally:
        node.close()
    r = tongxin("node", "status", "-d", str(cli_node))
    assert r.returncode == 0, r.stderr
    assert "confirmed by county: up to seq 2" in r.stdout
    assert "sent, unconfirmed: 1" in r.stdout and "waiting to be sent: 0" in r.stdout
    assert "backlog: 1 (not in the county yet)" in r.stdout

    node = NodeService(cli_node)
    try:
        accept(node, 3, hash="ab" * 32)  # the county's newest word names another history at seq 3
    finally:
        node.close()
    r = tongxin("node", "status", "-d", str(cli_node))
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "FORKED: at seq 3" in r.stdout
    assert "forked at seq 3" in r.stderr and "tongxin node recover" in r.stderr
    r = tongxin("node", "status", "--json", "-d", str(cli_node))
    assert r.returncode == 3
    status = json.loads(r.stdout)
    assert status["fork"]["seq"] == 3 and status["confirmed_seq"] == 2 and status["backlog"] == 1
    help_text = tongxin("node", "status", "--help").stdout
    assert "3 on a fork" in help_text
    r = tongxin("node", "forward", "--once", "-d", str(cli_node))
    assert r.returncode == 3 and "forwarding stopped on a fork" in r.stderr and "nothing was sent" in r.stderr


def test_forward_once_without_nats_fails_clearly(cli_node: Path) -> None:
    record_fund(cli_node)
    r = tongxin("node", "forward", "--once", "--nats", "nats://127.0.0.1:1", "-d", str(cli_node))
    assert r.returncode == 1 and "1 event(s) not forwarded" in r.stderr
    assert "sent up to seq 0 of 1" in r.stdout


def test_forward_once_succeeds_when_sent_and_waits_for_the_countys_receipt_on_request(
    cli_node: Path, nats_server: EmbeddedNats
) -> None:
    for _ in range(2):
        record_fund(cli_node)
    nats = ["--nats", nats_server.url, "-d", str(cli_node)]
    r = tongxin("node", "forward", "--once", *nats)
    assert r.returncode == 0, r.stderr
    assert (
        "sent up to seq 2 of 2; the county has confirmed up to seq 0 (2 sent, not confirmed yet)" in r.stdout
    )
    assert "all reported" not in r.stdout
    r = tongxin("node", "forward", "--wait-confirmed", "1", *nats)  # no county: no receipt comes
    assert r.returncode == 1 and "has not confirmed seq 1..2 within 1s" in r.stderr, r.stderr

    waiting = subprocess.Popen(
        [TONGXIN, "node", "forward", "--wait-confirmed", "60", *nats],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # it is waiting by now: the receipt comes after it started
        assert waiting.poll() is None, waiting.communicate()
        node = NodeService(cli_node)
        try:
            issued = county_receipt(node, 2)
        finally:
            node.close()
        asyncio.run(publish_receipt(nats_server.url, issued))
        stdout, stderr = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, stderr
    assert "the county has confirmed up to seq 2" in stdout and "all reported" in stdout
    assert "waiting up to 60s for the county's receipt" in stderr


async def publish_receipt(nats_url: str, r: receipt.Receipt) -> None:
    nc = await connect(nats_url)
    try:
        await nc.jetstream().publish(receipts_subject(r.county_id, r.node_id), receipt.encode(r))
    finally:
        await nc.close()


def test_help_has_examples() -> None:
    for cmd in ["init", "record", "import", "serve", "forward", "status", "verify", "rotate-key"]:
        r = tongxin("node", cmd, "--help")
        assert r.returncode == 0 and "Example" in r.stdout, cmd
