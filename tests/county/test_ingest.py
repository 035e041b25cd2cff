"""Ingest on real SQLite and PostgreSQL: exactly once, gaps held, every quarantine reason, conflicts."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from sqlalchemy import Engine, select

from services.county.db import tables as t
from services.county.ingest.incoming import Outcome
from services.county.ingest.processor import Ingestor
from services.county.ingest.statistics import Statistics
from services.county.projections import conflicts, figures, roster
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from services.county.registry import enrol
from shared import envelope
from shared.errors import FieldError
from shared.signing import Signer, VerifyPool
from tests.county.helpers import count, craft, enrol_nodes, feed, incoming, open_node, record
from tests.samples import fund, mixed, registration


def live_and_rebuilt(engine: Engine) -> tuple[str, str]:
    with engine.connect() as conn:
        live = digest(conn)
    with engine.begin() as conn:
        rebuild(conn)
        rebuilt = digest(conn)
    return live, rebuilt


def test_each_envelope_is_archived_once_however_often_it_arrives(
    county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    datas = record(node, mixed(1_200))
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    assert set(feed(ingestor, datas, batch=300)) == {Outcome.ARCHIVED}
    assert set(feed(ingestor, datas[100:700], batch=250)) == {Outcome.DUPLICATE}
    assert count(county_engine, t.archive) == 1_200
    assert count(county_engine, roster.members) == 400
    live, rebuilt = live_and_rebuilt(county_engine)
    assert live == rebuilt


def test_an_envelope_after_a_gap_is_held_then_projected(county_engine: Engine, tmp_path: Path) -> None:
    node = open_node(tmp_path, "dongguan")
    datas = record(node, [registration(i) for i in range(6)])
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    assert feed(ingestor, [datas[0], datas[1], datas[3], datas[4]]) == [
        "archived",
        "archived",
        "held",
        "held",
    ]
    assert count(county_engine, roster.members) == 2 and count(county_engine, t.held) == 2
    with county_engine.connect() as conn:
        assert conn.execute(select(t.node_heads.c.last_seq)).scalar_one() == 2
    assert feed(ingestor, [datas[4], datas[2]]) == ["duplicate", "archived"]
    assert count(county_engine, roster.members) == 5 and count(county_engine, t.held) == 0
    assert feed(ingestor, [datas[5]]) == ["archived"]
    assert count(county_engine, t.archive) == 6


@pytest.mark.parametrize("prepared", ["in process", "prepared inline", "prepared on a VerifyPool"])
def test_every_bad_message_is_quarantined_with_its_reason_while_good_ones_flow(
    county_engine: Engine, tmp_path: Path, prepared: str
) -> None:
    """Also when the consumer has prechecked the batch (signatures on another process): the
    precheck only saves work, every decision is still `process`'s."""
    node = open_node(tmp_path, "dongguan")
    stranger = open_node(tmp_path, "stranger")
    good = record(node, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    feed(ingestor, good[:1])
    head = envelope.decode(good[0]).hash
    signer = node.signer

    def signed(seq: int, **kw: object) -> bytes:
        args: dict[str, object] = {
            "node_id": "dongguan",
            "seq": seq,
            "prev_hash": head,
            "type_": "fund.received",
            "payload": fund(1)["payload"] | {"type": "fund.received"},
        }
        return craft(signer, **(args | kw))  # type: ignore[arg-type]

    second = envelope.decode(good[1])
    bad = {
        "malformed": incoming(b"{not json", "dongguan"),
        "unknown_type": incoming(signed(2, type_="alien.landed", payload={"x": 1}), "dongguan"),
        "invalid": incoming(
            signed(2, payload={"org_id": "dongguan", "source": "fiscal", "amount_fen": 0}), "dongguan"
        ),
        "future_schema": incoming(signed(2, schema=99), "dongguan"),
        "bad_signature": incoming(
            envelope.encode(
                msgspec.structs.replace(second, sig=second.sig[:-2] + f"{int(second.sig[-2:], 16) ^ 1:02x}")
            ),
            "dongguan",
        ),
        "altered": incoming(good[1].replace(b'"amount_fen":10001', b'"amount_fen":99999'), "dongguan"),
        "broken_chain": incoming(signed(2, prev_hash="ab" * 32), "dongguan"),
        "unknown_node": incoming(record(stranger, [fund(9)])[0], "stranger"),
        "unknown_key": incoming(
            craft(
                Signer.generate(),
                node_id="dongguan",
                seq=2,
                type_="fund.received",
                payload=fund(1)["payload"],
                prev_hash=head,
            ),
            "dongguan",
        ),
        "subject_mismatch": incoming(good[1], "huadu"),
    }
    batch = [*bad.values(), incoming(good[1]), incoming(good[2])]
    if prepared != "in process":
        pool = VerifyPool(1 if prepared == "prepared on a VerifyPool" else 0)
        try:
            batch = ingestor.prepare(batch, pool)
        finally:
            pool.close()
        signed_ok = [item.pre is not None and item.pre.signed_by is not None for item in batch]
        validly = {"unknown_type", "invalid", "future_schema", "broken_chain", "subject_mismatch"}
        assert signed_ok == [reason in validly for reason in bad] + [True, True]
    outcomes = ingestor.process(batch)
    assert outcomes == ["quarantined"] * len(bad) + ["archived", "archived"]
    with county_engine.connect() as conn:
        reasons = conn.execute(select(t.quarantine.c.reason).order_by(t.quarantine.c.id)).scalars().all()
        raw = conn.execute(select(t.quarantine.c.raw).order_by(t.quarantine.c.id)).scalars().first()
    assert reasons == list(bad)
    assert bytes(raw) == b"{not json"  # type: ignore[arg-type]
    assert count(county_engine, t.archive) == 3 and count(county_engine, figures.facts) == 3


def test_an_unknown_nodes_events_are_projected_after_enrolment_and_retry(
    county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "huadu")
    datas = record(node, [registration(i, outstation="huadu") for i in range(5)])
    ingestor = Ingestor(county_engine, "jx")
    assert set(feed(ingestor, list(reversed(datas)))) == {"quarantined"}
    assert count(county_engine, roster.members) == 0
    assert ingestor.retry_quarantine() == (0, 5)
    enrol_nodes(county_engine, node)
    assert ingestor.retry_quarantine() == (5, 0)
    assert count(county_engine, roster.members) == 5 and count(county_engine, t.archive) == 5
    assert ingestor.retry_quarantine() == (0, 0)


def test_a_double_registration_is_a_conflict_and_the_person_counts_once(
    county_engine: Engine, tmp_path: Path
) -> None:
    dongguan, huadu = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    first = record(dongguan, [registration(7, outstation="dongguan")])
    second = record(huadu, [registration(7, outstation="huadu")])
    enrol_nodes(county_engine, dongguan, huadu)
    ingestor = Ingestor(county_engine, "jx")
    feed(ingestor, second + first)
    with county_engine.connect() as conn:
        ((kind, detail, events),) = conn.execute(
            select(conflicts.conflicts.c.kind, conflicts.conflicts.c.detail, conflicts.conflicts.c.events)
        ).all()
        members = conn.execute(select(roster.members.c.outstation)).scalars().all()
    assert kind == "double_registration" and detail == '{"nodes": ["dongguan", "huadu"]}'
    assert events == "dongguan:1,huadu:1"
    assert members == ["dongguan"], "the earlier registration (same time: node order) stands"


def test_a_key_rotated_in_the_chain_is_followed_even_when_later_envelopes_come_first(
    county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    before = record(node, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, node)
    node.rotate_key()
    rotation = [d for _, d in node.envelopes.after(3, 1)]
    after = record(node, [fund(i) for i in range(3, 6)])
    ingestor = Ingestor(county_engine, "jx")
    assert feed(ingestor, before + after) == ["archived"] * 3 + ["held"] * 3, "new key unknown yet: held"
    assert feed(ingestor, rotation) == ["archived"]
    assert count(county_engine, t.archive) == 7 and count(county_engine, t.held) == 0
    with county_engine.connect() as conn:
        keys = conn.execute(
            select(t.node_keys.c.valid_from_seq, t.node_keys.c.valid_to_seq).order_by(
                t.node_keys.c.valid_from_seq
            )
        ).all()
    assert [tuple(k) for k in keys] == [(1, 4), (5, None)]
    with county_engine.connect() as conn:
        times = conn.execute(
            select(t.node_keys.c.valid_from, t.node_keys.c.valid_to).order_by(t.node_keys.c.valid_from_seq)
        ).all()
    (old_from, old_to), (new_from, new_to) = times
    assert old_to is not None and old_to == new_from and old_from <= old_to, (
        "the old key says when it stopped"
    )
    assert new_to is None
    forged = craft(
        node.first_key,
        node_id="dongguan",
        seq=8,
        type_="fund.received",
        payload=fund(9)["payload"],
        prev_hash=envelope.decode(after[-1]).hash,
    )
    assert feed(ingestor, [forged]) == ["quarantined"], "the old key no longer signs"


def test_an_enrolled_node_gets_no_second_key_on_trust(county_engine: Engine, tmp_path: Path) -> None:
    node = open_node(tmp_path, "dongguan")
    enrol_nodes(county_engine, node)
    enrol_nodes(county_engine, node)  # the same key again: no change
    with county_engine.begin() as conn, pytest.raises(FieldError, match="inside its chain"):
        enrol(conn, "dongguan", Signer.generate().public_key_hex)


def test_postgresql_statistics_are_refreshed_after_the_first_batch_then_rarely(
    county_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANALYZE holds the ingest thread for ~0.5 s on a large archive: after the first batch into a
    never-analysed archive, then only once the archive has grown by half (at least
    ANALYZE_MIN_ROWS events) — also across a restart."""
    if county_engine.dialect.name != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's")
    monkeypatch.setattr("services.county.ingest.statistics.ANALYZE_MIN_ROWS", 500)
    node = open_node(tmp_path, "dongguan")
    datas = record(node, mixed(1_200))
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    analyzed: list[int] = []
    original = Statistics.refresh

    def counting(self: Statistics) -> None:
        analyzed.append(ingestor.counts[Outcome.ARCHIVED])
        original(self)
        assert self.analyzer is not None
        self.analyzer.join()  # it runs beside the ingest; here each is waited for, to count them

    monkeypatch.setattr(Statistics, "refresh", counting)
    feed(ingestor, datas[:1_100], batch=100)
    assert analyzed == [100, 600, 1100]  # first batch; then 500 more each time (archive still small)
    analyzed.clear()
    ingestor = Ingestor(county_engine, "jx")  # a restart: statistics exist, the first batch is left alone
    feed(ingestor, datas[1_100:], batch=50)
    assert analyzed == [] and ingestor.counts[Outcome.ARCHIVED] == 100
    with county_engine.connect() as conn:
        stats = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'archive'").scalar()
    assert stats is not None and stats >= 1_000
