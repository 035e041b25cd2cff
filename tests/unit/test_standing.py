"""Where a seq stands against its node's head: the one gap rule that ingest and replay share."""

from __future__ import annotations

from services.county.chain import Standing, next_seq, standing


def test_a_seq_is_a_duplicate_the_next_or_beyond_a_gap() -> None:
    assert [standing(seq, 0) for seq in (1, 2)] == [Standing.NEXT, Standing.BEYOND_GAP]
    assert [standing(seq, 5) for seq in (1, 5, 6, 7, 100)] == [
        Standing.DUPLICATE,
        Standing.DUPLICATE,
        Standing.NEXT,
        Standing.BEYOND_GAP,
        Standing.BEYOND_GAP,
    ]
    assert next_seq(0) == 1 and next_seq(41) == 42
