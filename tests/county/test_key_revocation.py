"""Issue 14, an attacker's probe: a leaked node key is no longer a permanent takeover.

The thief holds a copy of the node's data dir — its key, its NATS seed — publishes a
`node.key_rotated` to a key of his own and events under it; the county archives them, and the real
node's next events conflict. The county revokes the node's keys from the thief's first seq: his
envelopes leave the chain (kept aside, projections rebuilt), everything he signs after is
quarantined `key_revoked`; the real node takes a new key from that seq, is re-enrolled with it,
and its own events are accepted in the thief's place; the audit verifies, naming the revocation,
and a replay gives the live digest. Over a real nats-server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select

from services.branch_node.rekey import rekey
from services.county.audit.archive import verify_archive
from services.county.audit.report import Claim
from services.county.db import tables as t
from services.county.db.key_tables import key_revocations, revoked_archive, revoked_receipts
from services.county.ingest.consumer import Consumer
from services.county.ingest.incoming import Outcome
from services.county.ingest.processor import Ingestor
from services.county.projections import figures
from services.county.reenrolment import reenrol
from services.county.revocation import revoke
from shared import envelope
from shared.signing import Signer, Verifier
from tests.county.helpers import count, craft, enrol_nodes, feed, record
from tests.county.key_lifecycle import (
    county_node,
    forward,
    ingest,
    leak,
    live_and_replayed,
    publish,
    quarantined,
)
from tests.samples import fund, registration
from tongxin.natsd import EmbeddedNats

COUNTY = Signer.from_seed_hex("c1" * 32)


def _funds(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(figures.facts)).scalar_one())


def test_a_leaked_key_is_revoked_and_the_real_node_comes_back_with_a_new_one(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    url = nats_server.url
    node = county_node(tmp_path, "dongguan", COUNTY.public_key_hex)
    record(node, [registration(i) for i in range(3)] + [fund(i) for i in range(2)])
    enrol_nodes(county_engine, node)
    forward(url, node)
    assert ingest(county_engine, url, COUNTY).ingestor.counts == {Outcome.ARCHIVED: 5}

    thief = leak(node, tmp_path)  # seq 6: his own key; then three funds of his under it
    thief.rotate_key()
    record(thief, [fund(100 + i) for i in range(3)])
    forward(url, thief)
    record(node, [fund(50), fund(51)])  # the real node's seqs 6 and 7, signed by its own key
    forward(url, node)
    assert ingest(county_engine, url, COUNTY).ingestor.counts == {Outcome.ARCHIVED: 4, Outcome.QUARANTINED: 2}
    assert [r for _, r, _ in quarantined(county_engine)] == ["conflicting_duplicate", "unknown_key"]
    forward(url, node)
    assert node.status().fork is not None, "the county holds the thief's history: the node stopped"
    taken = _funds(county_engine)

    with county_engine.begin() as conn:
        done = revoke(conn, "jx", "dongguan", 6, "the node's PC was copied; the thief rotated at seq 6")
    assert (done.envelopes, done.head_seq, done.key_ids[0]) == (4, 9, node.first_key.key_id)
    assert count(county_engine, t.archive) == 5 and count(county_engine, revoked_archive) == 4
    assert count(county_engine, revoked_receipts) >= 1, "the receipts for the thief's envelopes went too"
    assert _funds(county_engine) == taken - 3, "the projections were rebuilt without the thief's funds"
    live, replayed = live_and_replayed(county_engine)
    assert live == replayed

    record(thief, [fund(200)])  # his seq 10, under his own key, and a new rotation under the leaked one
    again = craft(
        thief.first_key,
        node_id="dongguan",
        seq=6,
        type_="node.key_rotated",
        payload={"new_key_id": Signer.generate().key_id, "new_public_key": Signer.generate().public_key_hex},
        prev_hash=envelope.decode(node.envelopes.after(4, 1)[0][1]).hash,
    )
    forward(url, thief)
    publish(url, again)
    consumer = ingest(county_engine, url, COUNTY)
    assert consumer.ingestor.counts == {Outcome.QUARANTINED: 2}
    refused = [(s, d) for s, r, d in quarantined(county_engine) if r == "key_revoked"]
    assert sorted(s for s, _ in refused) == [6, 10]
    for seq, detail in refused:
        assert "node dongguan" in detail and f"seq {seq}" in detail and "revoked from seq 6" in detail
    assert thief.signer.key_id in dict(refused)[10] and node.first_key.key_id in dict(refused)[6]
    forward(url, node)  # the county announced its head: seq 5, the real node's own
    assert node.status().fork is None

    new = rekey(node, 6)
    assert new.resigned == 2 and node.verify().ok
    with county_engine.begin() as conn:
        assert reenrol(conn, "dongguan", new.key.public_key_hex, 6) == new.key.key_id
    forward(url, node)
    assert ingest(county_engine, url, COUNTY).ingestor.counts == {Outcome.ARCHIVED: 2}
    forward(url, node)
    status = node.status()
    assert (status.confirmed_seq, status.fork, status.last_receipt and status.last_receipt.verified) == (
        7,
        None,
        True,
    )
    with county_engine.connect() as conn:
        archived = dict(
            conn.execute(select(t.archive.c.seq, t.archive.c.hash).where(t.archive.c.seq >= 6)).all()
        )
        assert archived == {s: h for s, h, _ in node.envelopes.rows_after(5, 10)}, "the real node's, in place"
        assert conn.execute(select(key_revocations.c.new_key_id)).scalar_one() == new.key.key_id
        claims = [Claim(r, "node") for r in node.receipts.all()]
        report = verify_archive(
            conn,
            ["dongguan"],
            county_key=Verifier(COUNTY.public_key),
            county_id="jx",
            node_claims=claims,
            workers=0,
        )
    assert report.faults == [], report.faults
    assert [k.key_id for k in report.nodes["dongguan"].keys] == [node.first_key.key_id, new.key.key_id]
    assert any(
        "revoked from seq 6" in n and "re-enrolled with key " + new.key.key_id in n for n in report.notes
    )
    assert _funds(county_engine) == taken - 3 + 2
    live, replayed = live_and_replayed(county_engine)
    assert live == replayed


def test_revoking_before_the_thief_acts_and_revoked_evidence_that_was_altered_is_a_fault(
    county_engine: Engine, tmp_path: Path
) -> None:
    """A revocation from the next seq moves nothing; the thief's envelopes after it are refused.
    A revoked envelope edited afterwards is named by the audit."""
    node = county_node(tmp_path, "huadu", None)
    first = record(node, [fund(i, org="huadu") for i in range(3)])
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    assert feed(ingestor, first) == ["archived"] * 3
    thief = leak(node, tmp_path)
    stolen = record(thief, [fund(9, org="huadu")])
    assert feed(ingestor, stolen) == ["archived"]
    with county_engine.begin() as conn:
        revoke(conn, "jx", "huadu", 4, "seq 4 is not ours")
    assert feed(ingestor, record(thief, [fund(10, org="huadu")])) == ["quarantined"]
    with county_engine.connect() as conn:
        assert verify_archive(conn, ["huadu"], county_key=None, county_id="jx", workers=0).ok
    with county_engine.begin() as conn:
        text = conn.execute(select(revoked_archive.c.envelope)).scalar_one()
        conn.execute(
            revoked_archive.update().values(envelope=text.replace('"amount_fen":10009', '"amount_fen":1'))
        )
        report = verify_archive(conn, ["huadu"], county_key=None, county_id="jx", workers=0)
    assert [(f.seq, f.reason) for f in report.faults] == [
        (4, "revoked envelope: hash does not match the envelope's contents (altered)")
    ]


def test_a_running_county_tells_the_node_at_once_where_its_chain_stands_after_a_revocation(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    """`county serve` goes on ingesting while an operator revokes: it notices the revocation
    (re-reading the keys) and announces a fresh receipt at the node's own head, so the real node's
    fork clears without a restart of the county."""
    url = nats_server.url
    node = county_node(tmp_path, "dongguan", COUNTY.public_key_hex)
    record(node, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, node)
    thief = leak(node, tmp_path)
    thief.rotate_key()
    record(thief, [fund(9)])
    forward(url, node, thief)
    consumer = Consumer(Ingestor(county_engine, "jx", COUNTY), url)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    running = threading.Thread(target=loop.run_until_complete, args=(consumer.run(stop),))
    running.start()
    try:
        _until(lambda: count(county_engine, t.archive) == 5)
        record(node, [fund(50)])

        def forked() -> bool:
            forward(url, node)
            return node.status().fork is not None

        _until(forked)  # the thief's receipt for seq 5 is the county's newest word
        with county_engine.begin() as conn:
            revoke(conn, "jx", "dongguan", 4, "a copied disk")
        record(thief, [fund(10)])
        forward(url, thief)

        def cleared() -> bool:
            forward(url, node)
            return node.status().fork is None

        _until(cleared)
        _until(lambda: [r for _, r, _ in quarantined(county_engine)][-1:] == ["key_revoked"])
    finally:
        loop.call_soon_threadsafe(stop.set)
        running.join(30)
        loop.close()
    assert node.status().confirmed_seq == 3


def _until(done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)


def test_an_ingest_that_read_the_keys_before_a_revocation_places_its_batch_again(
    county_engine: Engine, tmp_path: Path
) -> None:
    """The consumer's key registry is read once and kept; a revocation made by another process
    meanwhile is found at the end of the next transaction, which is done again on the new keys."""
    node = county_node(tmp_path, "dongguan", None)
    first = record(node, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    assert feed(ingestor, first) == ["archived"] * 3
    thief = leak(node, tmp_path)
    stolen = record(thief, [fund(9)])
    with county_engine.begin() as conn:  # another process: the ingestor's registry does not know
        revoke(conn, "jx", "dongguan", 4, "copied")
    assert ingestor.keys.lookup("dongguan", node.first_key.key_id, 4) is not None, "stale"
    assert feed(ingestor, stolen) == ["quarantined"]
    assert count(county_engine, t.archive) == 3
    assert [r for _, r, _ in quarantined(county_engine)] == ["key_revoked"]
