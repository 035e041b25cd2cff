"""The node's SQLite log: durable, atomic per batch, own-history rules, self-verification."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from services.branch_node.application import BatchError
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared import envelope
from shared.chain import single_key, verify_chain
from shared.signing import Verifier
from tests.samples import registration

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from services.branch_node.inputs import parse_item
    from services.branch_node.service import NodeService
    from tests.samples import mixed
    node = NodeService(Path(sys.argv[1]))
    items = [parse_item(i, node.keys) for i in mixed(int(sys.argv[2]), int(sys.argv[3]))]
    print("ready", flush=True)
    seqs = node.log.append(items)
    print("done", seqs[0], seqs[-1], flush=True)
    time.sleep(60)
    """
)


def spawn_append(node_dir: Path, n: int, start: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(node_dir), str(n), str(start)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_log_runs_in_wal_with_synchronous_full(node: NodeService) -> None:
    with node.log.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL
    assert node.envelopes.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_the_connections_that_write_events_commit_with_synchronous_full(node: NodeService) -> None:
    """FULL is set on each connection eventsourcing opens, not left to SQLite's compiled default
    (NORMAL in WAL mode on some builds, where a power cut can lose an append that returned)."""
    node.record([parse_item(registration(1), node.keys)])
    store = node.log.recorder.datastore
    with store.transaction(commit=True) as cursor:  # as insert_events takes it: the writer's
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL
    held = [store.pool.get_connection(is_writer=i == 0) for i in range(3)]  # two of them new
    try:
        for conn in held:
            cursor = conn.cursor()
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2, "every connection of the pool, however many it opens"
    finally:
        for conn in held:
            store.pool.put_connection(conn)


@pytest.mark.parametrize("delay", [0.05, 0.25, 0.5])
def test_kill_during_a_batch_append_leaves_all_or_none(node_dir: Path, delay: float) -> None:
    node = NodeService(node_dir)
    node.record([parse_item(registration(999_999), node.keys)])
    node.close()
    proc = spawn_append(node_dir, 30_000, 0)
    try:
        import time

        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        finished = proc.stdout is not None and proc.stdout.read().startswith("done")
    finally:
        proc.kill()
    node = NodeService(node_dir)
    try:
        # all or none: the kill may also land after the commit but before "done" is printed
        assert node.log.last_seq() in (1, 30_001), "an unfinished append left part of its batch"
        assert not finished or node.log.last_seq() == 30_001, "an append that returned was lost"
        if delay == 0.05:  # 30,000 events take far longer than 50 ms: this kill lands mid-batch
            assert node.log.last_seq() == 1
        node.sign_pending()
        assert node.verify().ok
    finally:
        node.close()


def test_an_append_that_returned_survives_kill_9(node_dir: Path) -> None:
    proc = spawn_append(node_dir, 500, 0)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split() == ["done", "1", "500"]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    node = NodeService(node_dir)
    try:
        assert node.log.last_seq() == 500
        assert node.sign_pending() == 500, "the envelopes were signed after restart, in seq order"
        assert node.verify().ok and node.verify().checked == 500
    finally:
        node.close()


def test_own_history_rules_refuse_impossible_member_events(node: NodeService) -> None:
    reg = parse_item(registration(1), node.keys)
    member = reg.body.member_id  # type: ignore[attr-defined]

    def item(type_: str) -> object:
        return parse_item({"type": type_, "payload": {"member_id": member}}, node.keys)

    with pytest.raises(BatchError, match="not registered at this node"):
        node.record([item("member.returned")])  # type: ignore[list-item]
    node.record([reg])
    with pytest.raises(BatchError, match="already registered"):
        node.record([parse_item(registration(1), node.keys)])
    with pytest.raises(BatchError, match="has not lost contact"):
        node.record([item("member.contact_restored")])  # type: ignore[list-item]
    node.record([item("member.contact_lost"), item("member.contact_restored"), item("member.returned")])  # type: ignore[list-item]
    with pytest.raises(BatchError, match="already returned"):
        node.record([item("member.returned")])  # type: ignore[list-item]
    assert node.log.last_seq() == 4


def test_a_batch_with_one_bad_item_appends_nothing(node: NodeService) -> None:
    good = parse_item(registration(1), node.keys)
    unknown = parse_item({"type": "member.returned", "payload": {"member_id": "0" * 32}}, node.keys)
    with pytest.raises(BatchError) as info:
        node.record([good, unknown])
    assert [i for i, _ in info.value.errors] == [1]
    assert node.log.last_seq() == 0


def test_verify_names_the_seq_of_a_tampered_envelope(node: NodeService, node_dir: Path) -> None:
    node.record([parse_item(registration(i), node.keys) for i in range(10)])
    assert node.verify().ok
    db = sqlite3.connect(node_dir / "log.db")
    data = db.execute("SELECT envelope FROM seals WHERE seq = 7").fetchone()[0]
    db.execute(
        "UPDATE seals SET envelope = ? WHERE seq = 7",
        (bytes(data).replace(b"village-", b"village9"),),
    )
    db.commit()
    db.close()
    report = node.verify()
    assert [f.seq for f in report.faults] == [7]
    assert "altered" in report.faults[0].reason


def test_verify_finds_a_log_event_that_differs_from_its_envelope(node: NodeService, node_dir: Path) -> None:
    node.record([parse_item(registration(i), node.keys) for i in range(5)])
    db = sqlite3.connect(node_dir / "log.db")
    (state,) = db.execute("SELECT state FROM stored_events WHERE rowid = 3").fetchone()
    db.execute(
        "UPDATE stored_events SET state = ? WHERE rowid = 3",
        (bytes(state).replace("皮具".encode(), "箱包".encode()),),
    )
    db.commit()
    db.close()
    report = node.verify()
    assert [(f.seq, f.reason) for f in report.faults] == [(3, "the log's payload differs from its envelope")]


def test_a_key_rotation_is_recorded_in_the_chain_and_later_envelopes_use_the_new_key(
    node: NodeService,
) -> None:
    node.record([parse_item(registration(i), node.keys) for i in range(3)])
    first = node.first_key
    new = node.rotate_key()
    node.record([parse_item(registration(i), node.keys) for i in range(3, 5)])
    envs = [envelope.decode(d) for _, d in node.envelopes.after(0, 100)]
    assert [e.key_id for e in envs] == [first.key_id] * 4 + [new.key_id] * 2
    assert envs[3].type == "node.key_rotated"
    assert node.signer.key_id == new.key_id
    assert verify_chain(envs, single_key(Verifier(first.public_key))) == [], "the first key is enough"
    assert node.verify().ok
    reopened = NodeService(node.dir.path)
    try:
        assert reopened.signer.key_id == new.key_id
    finally:
        reopened.close()
