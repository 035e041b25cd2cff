"""Names on the wire, written once: the JetStream streams, their subjects, the Msg-Id, the default URL.

Every subject Tongxin uses is built and parsed here; nothing else formats or splits one.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NATS_URL = "nats://127.0.0.1:4223"
"""The embedded default (`tongxin nats` listens on 4223), for nodes and county alike; 4222 stays
free for a system-wide NATS. Production deployments pass their own URL."""

STREAM = "TONGXIN"
"""Events from every node of every county."""
STREAM_SUBJECTS = ["tongxin.*.events.*"]
RECEIPTS_STREAM = "TONGXIN_RECEIPTS"
"""The latest county receipt per node (one message per subject)."""
RECEIPTS_SUBJECTS = ["tongxin.*.receipts.*"]
DUPLICATE_WINDOW_S = 7 * 24 * 3600.0
"""De-duplication window: a week, longer than any retry of a node's unacknowledged publish."""

_ROOT = "tongxin"
_EVENTS = "events"
_RECEIPTS = "receipts"


def events_subject(county_id: str, node_id: str) -> str:
    """The subject a node publishes its envelopes on."""
    return f"{_ROOT}.{county_id}.{_EVENTS}.{node_id}"


def events_filter(county_id: str) -> str:
    """Every node's events subject of one county (the county's consumer filter)."""
    return events_subject(county_id, "*")


def receipts_subject(county_id: str, node_id: str) -> str:
    """The subject the county publishes a node's latest receipt on."""
    return f"{_ROOT}.{county_id}.{_RECEIPTS}.{node_id}"


@dataclass(frozen=True)
class Subject:
    """A parsed Tongxin subject: which county, which kind (`events` or `receipts`), which node."""

    county_id: str
    kind: str
    node_id: str


def parse_subject(subject: str) -> Subject | None:
    """`tongxin.<county>.<events|receipts>.<node>` parsed; None for anything else."""
    parts = subject.split(".")
    if len(parts) != 4 or parts[0] != _ROOT or parts[2] not in (_EVENTS, _RECEIPTS):
        return None
    if not parts[1] or not parts[3]:
        return None
    return Subject(parts[1], parts[2], parts[3])


def node_of_events_subject(subject: str, county_id: str) -> str | None:
    """The node whose events subject of `county_id` this is; None if it is not one."""
    parsed = parse_subject(subject)
    if parsed is None or parsed.kind != _EVENTS or parsed.county_id != county_id:
        return None
    return parsed.node_id


def msg_id(node_id: str, seq: int) -> str:
    """The `Nats-Msg-Id` of a node's envelope (JetStream de-duplicates on it)."""
    return f"{node_id}:{seq}"
