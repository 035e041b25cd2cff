"""Per-node hash chains: check that envelopes are contiguous, linked, unaltered and signed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from shared.envelope import GENESIS_HASH, Envelope, hash_matches, signature_valid
from shared.errors import FieldError
from shared.signing import Verifier

KeyLookup = Callable[[str, str], Verifier | None]
"""(node_id, key_id) -> the enrolled public key, or None when that key is unknown."""

ROTATION = "node.key_rotated"


def rotated_key(env: Envelope) -> Verifier:
    """The key a `node.key_rotated` envelope names (its payload was hashed and signed)."""
    payload = msgspec.json.decode(env.payload)
    return Verifier.from_hex(payload["new_public_key"])


@dataclass(frozen=True)
class ChainFault:
    node_id: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.node_id} seq {self.seq}: {self.reason}"


class ChainVerifier:
    """Checks one node's envelopes in order; remembers where its chain stands and which key
    signs next.

    Only the node's first key comes from `keys` (enrolment); after a `node.key_rotated`
    envelope the key it names signs from the next seq on, so the key history is as
    tamper-evident as the events. A key the node was re-enrolled with after a revocation
    (`enrolled`: seq → key) is taken on trust, like the first, from its seq on.
    """

    def __init__(
        self,
        node_id: str,
        keys: KeyLookup,
        *,
        last_seq: int = 0,
        last_hash: str = GENESIS_HASH,
        key: Verifier | None = None,
        enrolled: dict[int, Verifier] | None = None,
    ):
        self.node_id = node_id
        self.keys = keys
        self.last_seq = last_seq
        self.last_hash = last_hash
        self.key = key
        self.enrolled = enrolled or {}

    def enter(self, seq: int) -> None:
        """Before checking the envelope at `seq`: the key re-enrolled last at or before it (and
        after the last seq checked) signs from there."""
        passed = [s for s in self.enrolled if self.last_seq < s <= seq]
        if passed:
            self.key = self.enrolled[max(passed)]

    def check(self, env: Envelope) -> ChainFault | None:
        """The first thing wrong with `env` as this node's next envelope, or None (then it advances)."""
        if self.enrolled:
            self.enter(env.seq)
        fault = self._problem(env)
        if fault is not None:
            return ChainFault(self.node_id, env.seq, fault)
        self.last_seq, self.last_hash = env.seq, env.hash
        if env.type == ROTATION:
            self.key = rotated_key(env)
        elif self.key is None:
            self.key = self.keys(env.node_id, env.key_id)
        return None

    def resume_after(self, env: Envelope) -> None:
        """Go on checking after a faulty envelope: from it if it lies ahead, else stay put."""
        if env.seq > self.last_seq:
            self.last_seq, self.last_hash = env.seq, env.hash

    def _problem(self, env: Envelope) -> str | None:
        if env.node_id != self.node_id:
            return f"belongs to node {env.node_id!r}"
        try:
            intact = hash_matches(env)
        except FieldError as exc:
            return f"contents are not canonical JSON (altered): {exc.message}"
        if not intact:
            return "hash does not match the envelope's contents (altered)"
        designated = self.key if self.key is not None and self.key.key_id == env.key_id else None
        verifier = designated or self.keys(env.node_id, env.key_id)
        if verifier is None:
            return f"signed by unknown key {env.key_id}"
        if not signature_valid(env, verifier):
            return f"signature does not verify under key {env.key_id}"
        if self.key is not None and designated is None:
            return f"signed by key {env.key_id} where the chain designates key {self.key.key_id}"
        expected = self.last_seq + 1
        if env.seq != expected:
            kind = "missing" if env.seq > expected else "out of order or repeated"
            return f"expected seq {expected}, found {env.seq} ({kind})"
        if env.prev_hash != self.last_hash:
            return f"prev_hash does not link to seq {self.last_seq}"
        return None


def verify_chain(envelopes: Iterable[Envelope], keys: KeyLookup) -> list[ChainFault]:
    """Check every node's chain in the given envelopes (each node's in its stored order).

    After a fault the check resumes from the faulty envelope, so that one deletion or edit
    is reported once, at the first bad link, and later links are still checked.
    """
    verifiers: dict[str, ChainVerifier] = {}
    faults: list[ChainFault] = []
    for env in envelopes:
        verifier = verifiers.setdefault(env.node_id, ChainVerifier(env.node_id, keys))
        fault = verifier.check(env)
        if fault is not None:
            faults.append(fault)
            verifier.resume_after(env)
    return faults


def single_key(verifier: Verifier) -> KeyLookup:
    """A KeyLookup that knows one key (a node checking its own log)."""
    return lambda _node, key_id: verifier if key_id == verifier.key_id else None
