"""Issue 14: the county's receipt key can be rotated, with an overlap.

Over a real nats-server: after `rotate`, a node given the old key and a node given the new one both
confirm the county's receipts (co-signed during the overlap); the node with the old key adopts the
new one from the handover the receipts carry. A node that slept through the whole overlap adopts
it too and then stops trusting the old key. A receipt signed by an unknown key, or carrying a
handover from one, is refused by a node that has a county key. The audit follows the handovers
from either key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.county.audit.archive import verify_archive
from services.county.audit.report import Claim
from services.county.key_rotation import rotate
from services.county.keys import load_or_create, load_signing
from shared import county_key, receipt
from shared.envelope import format_time
from shared.errors import FieldError
from shared.signing import Signer, Verifier
from tests.county.helpers import enrol_nodes, record
from tests.county.key_lifecycle import county_node, forward, ingest, publish_receipt
from tests.samples import fund
from tongxin.natsd import EmbeddedNats


def _rotate(engine: Engine, path: Path, **kw: object) -> Signer:
    with engine.begin() as conn:
        done = rotate(conn, path, "jx", **kw)  # type: ignore[arg-type]
    done.install(path)
    return done.new


def test_a_node_with_the_old_key_and_one_with_the_new_key_both_confirm_receipts(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    url, path = nats_server.url, tmp_path / "county.key"
    old = load_or_create(path)
    before = county_node(tmp_path, "dongguan", old.public_key_hex)
    record(before, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, before)
    forward(url, before)
    ingest(county_engine, url, load_signing(path, county_engine))  # receipts under the old key alone

    new = _rotate(county_engine, path, overlap=timedelta(days=7))
    with pytest.raises(FieldError, match="overlap"):
        _rotate(county_engine, path, overlap=timedelta(days=7))  # one rotation at a time
    after = county_node(tmp_path, "huadu", new.public_key_hex)
    record(before, [fund(i) for i in range(3, 5)])
    record(after, [fund(i, org="huadu") for i in range(4)])
    enrol_nodes(county_engine, after)
    forward(url, before, after)
    signing = load_signing(path, county_engine)
    assert signing.signer.key_id == new.key_id and [c.key_id for c in signing.cosigners()] == [old.key_id]
    ingest(county_engine, url, signing)
    forward(url, before, after)
    for node, seq in ((before, 5), (after, 4)):
        status = node.status()
        assert (
            status.last_receipt is not None and status.last_receipt.verified and status.confirmed_seq == seq
        )
    assert before.status().county_keys == [old.key_id, new.key_id], "adopted from the handover"
    assert after.status().county_keys == [new.key_id]
    (held,) = [r for r in before.receipts.all() if r.seq == 5]
    assert held.key_id == new.key_id and [c.key_id for c in held.cosigs] == [old.key_id]

    with county_engine.connect() as conn:
        claims = [Claim(r, "node") for n in (before, after) for r in n.receipts.all()]
        for trusted in (old, new):  # an auditor given either key follows the handover
            report = verify_archive(
                conn,
                ["dongguan", "huadu"],
                county_key=Verifier(trusted.public_key),
                county_id="jx",
                node_claims=claims,
                workers=0,
            )
            assert report.faults == [], report.faults


def test_a_node_that_slept_through_the_overlap_adopts_the_new_key_and_drops_the_old(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    url, path = nats_server.url, tmp_path / "county.key"
    old = load_or_create(path)
    node = county_node(tmp_path, "dongguan", old.public_key_hex)
    record(node, [fund(i) for i in range(2)])
    enrol_nodes(county_engine, node)
    new = _rotate(county_engine, path, overlap=timedelta(0))  # the overlap is over at once
    forward(url, node)
    signing = load_signing(path, county_engine)
    assert signing.cosigners() == [] and len(signing.handovers) == 1
    ingest(county_engine, url, signing)
    forward(url, node)
    status = node.status()
    assert status.last_receipt is not None and status.last_receipt.verified and status.confirmed_seq == 2
    assert status.county_keys == [new.key_id], "the handed-over key is trusted no more"


def test_a_forged_receipt_and_a_forged_handover_are_refused(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    url, path = nats_server.url, tmp_path / "county.key"
    real = load_or_create(path)
    node = county_node(tmp_path, "dongguan", real.public_key_hex)
    record(node, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, node)
    forward(url, node)
    ingest(county_engine, url, load_signing(path, county_engine))
    forward(url, node)
    assert node.status().confirmed_seq == 3
    forger = Signer.generate()
    now = datetime.now(UTC)
    handover = county_key.hand_over(
        forger,
        Signer.generate(),
        prev_public_key=forger.public_key_hex,
        county_id="jx",
        made_at=format_time(now),
        overlap_until=format_time(now + timedelta(days=1)),
    )
    forged = receipt.issue(
        forger,
        handovers=[handover],
        county_id="jx",
        node_id="dongguan",
        seq=1,
        hash="ab" * 32,
        received_at=format_time(now),
        issued_at=format_time(now + timedelta(seconds=5)),
    )
    publish_receipt(url, forged)
    forward(url, node)
    status = node.status()
    assert status.confirmed_seq == 3 and status.fork is None, "the forged receipt was not taken"
    assert status.last_receipt is not None and status.last_receipt.seq == 3
    assert status.county_keys == [real.key_id], "a handover from an unknown key adopts nothing"


def test_a_handed_over_key_counts_only_until_its_overlap_ends(tmp_path: Path) -> None:
    """A node that adopted the new key still takes the old key's receipts issued within the
    overlap, and refuses one the old key signed after it (a leaked old key cannot go on)."""
    old, new = Signer.generate(), Signer.generate()
    node = county_node(tmp_path, "dongguan", old.public_key_hex)
    record(node, [fund(i) for i in range(3)])
    hashes = {s: h for s, h, _ in node.envelopes.rows_after(0, 3)}
    made, until = "2026-05-01T00:00:00.000000Z", "2026-05-08T00:00:00.000000Z"
    handover = county_key.hand_over(
        old, new, prev_public_key=old.public_key_hex, county_id="jx", made_at=made, overlap_until=until
    )

    def issued(signer: Signer, seq: int, at: str, **kw: object) -> receipt.Receipt:
        return receipt.issue(
            signer, county_id="jx", node_id="dongguan", seq=seq, hash=hashes[seq], received_at=made,
            issued_at=at, **kw,  # type: ignore[arg-type]
        )  # fmt: skip

    taken = node.receipts.accept(
        issued(new, 1, "2026-05-02T00:00:00.000000Z", handovers=[handover]), "dongguan"
    )
    assert taken is not None and taken.verified
    assert node.status().county_keys == [old.key_id, new.key_id]
    assert node.receipts.accept(issued(old, 2, "2026-05-03T00:00:00.000000Z"), "dongguan") is not None
    assert node.receipts.accept(issued(old, 3, "2026-05-09T00:00:00.000000Z"), "dongguan") is None
    assert node.receipts.last() is not None and node.receipts.last().seq == 2  # type: ignore[union-attr]
    assert node.receipts.accept(issued(new, 3, "2026-05-09T00:00:01.000000Z"), "dongguan") is not None
    assert node.status().county_keys == [new.key_id], "after the overlap, the new key alone"
