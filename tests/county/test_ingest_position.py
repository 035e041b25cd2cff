"""The ingest position moves forward only, in one statement, on both databases."""

from __future__ import annotations

from sqlalchemy import Engine

from services.county.ingest import position


def test_the_position_never_goes_back(county_engine: Engine) -> None:
    steps = [(5, 5), (3, 5), (0, 5), (9, 9), (9, 9), (8, 9)]
    for stream_seq, expected in steps:
        with county_engine.begin() as conn:
            position.advance(conn, "S", stream_seq)
        assert position.read_from(county_engine, "S") == expected
    assert position.read_from(county_engine, "OTHER") == 0
    position.reset(county_engine, "S")
    assert position.read_from(county_engine, "S") == 0
