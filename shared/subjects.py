"""Names on the wire: the JetStream stream, its subjects and the de-duplication Msg-Id."""

from __future__ import annotations

STREAM = "TONGXIN"
STREAM_SUBJECTS = ["tongxin.*.events.*"]
DUPLICATE_WINDOW_S = 7 * 24 * 3600.0
"""De-duplication window: a week, longer than any retry of a node's unacknowledged publish."""


def events_subject(county_id: str, node_id: str) -> str:
    return f"tongxin.{county_id}.events.{node_id}"


def msg_id(node_id: str, seq: int) -> str:
    return f"{node_id}:{seq}"
