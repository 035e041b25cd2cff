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
STREAM_MAX_BYTES = 8 * 1024**3
"""The events stream's size limit (8 GiB, about eight million envelopes): past it publishes are
refused (discard new), never old envelopes dropped; the county archives everything it consumed,
so the stream needs to hold only what the county has not read yet plus a margin."""
STREAM_MAX_AGE_S = 90 * 24 * 3600.0
"""How long the events stream keeps an envelope (90 days): longer than any county outage we plan
for; what ages out unread is re-sent from the node's log (receipt-driven repair)."""
MAX_ENVELOPE_BYTES = 1024 * 1024
"""The largest message the events stream accepts (1 MiB, NATS's default max_payload)."""
DUPLICATE_WINDOW_S = 7 * 24 * 3600.0
"""De-duplication window: a week, longer than any retry of a node's unacknowledged publish."""

REFS_BUCKET = "TONGXIN_REFS"
"""The JetStream KV bucket of reference data, county → nodes (`shared.reference`): one value per
key, written by the county only; a node reads its county's tree and its own co-managed members."""
MAX_REFS_BYTES = 1024 * 1024
"""The largest reference document (NATS's default max_payload)."""

_ROOT = "tongxin"
_EVENTS = "events"
_RECEIPTS = "receipts"
_REQUESTS = "requests"
_ARCHIVE = "archive"
_KEYS = "keys"
_KINDS = (_EVENTS, _RECEIPTS, _REQUESTS, _ARCHIVE, _KEYS)


def events_subject(county_id: str, node_id: str) -> str:
    """The subject a node publishes its envelopes on."""
    return f"{_ROOT}.{county_id}.{_EVENTS}.{node_id}"


def events_filter(county_id: str) -> str:
    """Every node's events subject of one county (the county's consumer filter)."""
    return events_subject(county_id, "*")


def receipts_subject(county_id: str, node_id: str) -> str:
    """The subject the county publishes a node's latest receipt on."""
    return f"{_ROOT}.{county_id}.{_RECEIPTS}.{node_id}"


def requests_subject(county_id: str, node_id: str) -> str:
    """The subject the county asks a node on to re-send a range of its chain (core NATS)."""
    return f"{_ROOT}.{county_id}.{_REQUESTS}.{node_id}"


def archive_subject(county_id: str, node_id: str) -> str:
    """The subject a node asks the county on for its own archived envelopes (request-reply)."""
    return f"{_ROOT}.{county_id}.{_ARCHIVE}.{node_id}"


def archive_filter(county_id: str) -> str:
    """Every node's archive subject of one county (the county's responder subscribes to it)."""
    return archive_subject(county_id, "*")


def keys_subject(county_id: str, node_id: str) -> str:
    """The subject a node hands the county its members' keys on (request-reply, core NATS: no
    stream captures it, so no key is ever retained in JetStream; `shared.personal`)."""
    return f"{_ROOT}.{county_id}.{_KEYS}.{node_id}"


def keys_filter(county_id: str) -> str:
    """Every node's keys subject of one county (the county's key responder subscribes to it)."""
    return keys_subject(county_id, "*")


def refs_orgs_key(county_id: str) -> str:
    """The KV key of a county's organisation tree."""
    return f"{county_id}.orgs"


def refs_members_key(county_id: str, node_id: str) -> str:
    """The KV key of the members node `node_id` co-manages."""
    return f"{county_id}.members.{node_id}"


def refs_stream() -> str:
    """The stream behind the KV bucket (JetStream names it `KV_<bucket>`)."""
    return f"KV_{REFS_BUCKET}"


def refs_subject(key: str) -> str:
    """The subject a KV key's values are stored on."""
    return f"$KV.{REFS_BUCKET}.{key}"


def refs_direct_get(key: str) -> str:
    """The JetStream API subject that reads a key's newest value by a direct get: the key is in the
    subject, so a NATS permission can grant one key and no other."""
    return f"$JS.API.DIRECT.GET.{refs_stream()}.{refs_subject(key)}"


@dataclass(frozen=True)
class Subject:
    """A parsed Tongxin subject: its county, its kind (events, receipts, requests, archive), its node."""

    county_id: str
    kind: str
    node_id: str


def parse_subject(subject: str) -> Subject | None:
    """`tongxin.<county>.<kind>.<node>` parsed; None for anything else."""
    parts = subject.split(".")
    if len(parts) != 4 or parts[0] != _ROOT or parts[2] not in _KINDS:
        return None
    if not parts[1] or not parts[3]:
        return None
    return Subject(parts[1], parts[2], parts[3])


def node_of_events_subject(subject: str, county_id: str) -> str | None:
    """The node whose events subject of `county_id` this is; None if it is not one."""
    return _node_of(subject, county_id, _EVENTS)


def node_of_archive_subject(subject: str, county_id: str) -> str | None:
    """The node whose archive subject of `county_id` this is; None if it is not one."""
    return _node_of(subject, county_id, _ARCHIVE)


def node_of_keys_subject(subject: str, county_id: str) -> str | None:
    """The node whose keys subject of `county_id` this is; None if it is not one."""
    return _node_of(subject, county_id, _KEYS)


def _node_of(subject: str, county_id: str, kind: str) -> str | None:
    parsed = parse_subject(subject)
    if parsed is None or parsed.kind != kind or parsed.county_id != county_id:
        return None
    return parsed.node_id


def msg_id(node_id: str, seq: int, hash: str) -> str:
    """The `Nats-Msg-Id` of a node's envelope: `<node_id>:<seq>:<hash>`.

    JetStream de-duplicates on it, so it commits to the envelope's content: a message that
    claims the id before the real envelope would have to know its hash, which depends on the
    envelope's own event id and times, so only the same envelope is ever de-duplicated.
    """
    return f"{node_id}:{seq}:{hash}"


def resend_msg_id(node_id: str, seq: int, hash: str, attempt: str) -> str:
    """The Msg-Id of an envelope sent again by repair: `<node_id>:<seq>:<hash>:<attempt>`.

    A purge or a loss inside JetStream does not clear the duplicate window, so a re-send under
    the id the envelope had would be acknowledged as a duplicate and dropped; each re-send has
    its own id (`attempt`, unique per re-send), and the county is idempotent on (node, seq, hash).
    """
    return f"{node_id}:{seq}:{hash}:{attempt}"


def rekeyed_msg_id(node_id: str, seq: int, hash: str, key_id: str) -> str:
    """The Msg-Id of an envelope signed again after a rekey: `<node_id>:<seq>:<hash>:k<key_id>`.

    Its hash is the one the envelope had before (a hash does not cover the key), so under the
    plain id JetStream would drop it as a duplicate of the one the revoked key signed.
    """
    return f"{node_id}:{seq}:{hash}:k{key_id}"
