"""Verifying stored envelopes: each node's chain from its first enrolled key, the archive's own
columns and key rows, and county and node receipts against the envelopes they acknowledge.

The walk is sequential per node (shared.chain.ChainVerifier, so reasons match docs/envelope.md);
signatures are checked ahead of it, a chunk at a time, in worker processes, and the walk finds
each answer in a cache. Processes, not threads: libsodium releases the GIL while it verifies, but
every call takes it back, and the decoding and hashing of the walk need it too; on two cores the
threads spent more time handing the GIL over than verifying.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor

import msgspec

from services.county.audit.report import COLUMNS, Anchor, ChainKey, Claim, Fault, NodeSummary, Report, Row
from shared import envelope
from shared.chain import ROTATION, ChainFault, ChainVerifier, rotated_key
from shared.county_key import CountyKeys
from shared.envelope import GENESIS_HASH, Envelope
from shared.errors import FieldError
from shared.receipt import Receipt
from shared.signing import Job, Pending, Verifier, submit_parts, worker_pool

_Cache = dict[tuple[bytes, bytes, bytes], bool]
_HEX64 = re.compile(r"[0-9a-f]{64}")


class _Cached(Verifier):
    """A public key that answers from the signature cache, verifying itself on a miss."""

    def __init__(self, public_key: bytes, cache: _Cache) -> None:
        super().__init__(public_key)
        self.cache = cache

    def verify(self, digest: bytes, signature: bytes) -> bool:
        found = self.cache.pop((self.public_key, digest, signature), None)
        return super().verify(digest, signature) if found is None else found


class _Chain(ChainVerifier):
    """One node's ChainVerifier, trusting only the anchor's key (and the keys the node was
    re-enrolled with after a revocation, from their seqs) and recording the keys it follows."""

    def __init__(
        self,
        node_id: str,
        anchor: Anchor,
        first: Verifier,
        cache: _Cache,
        keys: list[ChainKey],
        enrolled: dict[int, Verifier] | None = None,
    ) -> None:
        known = {k.key_id: _Cached(k.public_key, cache) for k in (first, anchor.key)}
        super().__init__(
            node_id,
            lambda _n, k: known.get(k),
            last_seq=anchor.seq,
            last_hash=anchor.hash,
            key=known[anchor.key.key_id],
            enrolled={s: _Cached(k.public_key, cache) for s, k in (enrolled or {}).items() if s > anchor.seq},
        )
        self.cache, self.followed = cache, keys
        keys.append(ChainKey(anchor.key.key_id, anchor.key.public_key.hex(), anchor.seq + 1))

    def enter(self, seq: int) -> None:
        before = self.key
        super().enter(seq)
        if self.key is not None and self.key is not before:
            start = max(s for s in self.enrolled if self.last_seq < s <= seq)
            self.followed.append(ChainKey(self.key.key_id, self.key.public_key.hex(), start))

    def check(self, env: Envelope) -> ChainFault | None:
        try:
            fault = super().check(env)
        except (KeyError, TypeError, ValueError, msgspec.DecodeError):
            return ChainFault(self.node_id, env.seq, "node.key_rotated names no valid public key")
        if fault is None and env.type == ROTATION and self.key is not None:
            self.key = _Cached(self.key.public_key, self.cache)
            self.followed.append(ChainKey(self.key.key_id, self.key.public_key.hex(), env.seq + 1))
        return fault


def _pool(workers: int) -> Executor:
    if workers <= 1:
        return ThreadPoolExecutor(1, "audit-sig")  # beside the walk, without a process to start
    return worker_pool(workers)


class Audit:
    """Walks stored envelopes (any interleaving of nodes, each node in its stored order) and
    checks receipts against them; `finish` gives the report."""

    def __init__(
        self,
        first_keys: dict[str, Verifier],
        *,
        anchors: dict[str, Anchor] | None = None,
        claims: Iterable[Claim] = (),
        county_key: Verifier | CountyKeys | None = None,
        county_id: str | None = None,
        workers: int = 2,
        where: str = "archive",
        enrolled: dict[str, dict[int, Verifier]] | None = None,
    ) -> None:
        self.first_keys, self.anchors, self.where = first_keys, anchors or {}, where
        self.enrolled = enrolled or {}
        """Each node's keys re-enrolled after a revocation, by the seq each signs from."""
        self.nodes: dict[str, NodeSummary] = {n: NodeSummary(n) for n in first_keys}
        self.faults: list[Fault] = []
        self.chains: dict[str, _Chain | None] = {}
        self.guess: dict[str, Verifier | None] = {}
        self.cache: _Cache = {}
        self.workers = workers
        self.claims: dict[tuple[str, int], list[Claim]] = defaultdict(list)
        self.node_claims: list[Claim] = []
        self.county_heads: set[tuple[str, int, str]] = set()
        for claim in claims:
            self._receive(claim, county_key, county_id)

    def fault(self, node_id: str, seq: int, reason: str) -> None:
        self.faults.append(Fault(node_id, seq, reason))
        self.summary(node_id).faults += 1

    def summary(self, node_id: str) -> NodeSummary:
        found = self.nodes.get(node_id)
        if found is None:
            found = self.nodes[node_id] = NodeSummary(node_id)
        return found

    def _receive(self, claim: Claim, county_key: Verifier | CountyKeys | None, county_id: str | None) -> None:
        r = claim.receipt
        self.summary(r.node_id).receipts += 1
        what = f"{claim.source} receipt for seq {r.seq}"
        if county_id is not None and r.county_id != county_id:
            self.fault(r.node_id, r.seq, f"{what} was issued by county {r.county_id!r}, not {county_id!r}")
        if isinstance(county_key, CountyKeys):
            problem = county_key.problem(r.key_id, r.issued_at, r.digest(), r.sig)
            if problem is not None:
                self.fault(r.node_id, r.seq, f"{what} {problem}")
        elif county_key is not None and not r.verify(county_key):
            self.fault(r.node_id, r.seq, f"{what} does not verify under the county key {county_key.key_id}")
        if claim.source == "county":
            self.county_heads.add((r.node_id, r.seq, r.hash))
        else:
            self.node_claims.append(claim)
        self.claims[(r.node_id, r.seq)].append(claim)

    def run(self, chunks: Iterable[list[Row]], progress: Callable[[int], None] | None = None) -> None:
        """Check every chunk; the signatures of one are verified on the pool (with `workers` > 0)
        while the previous one is walked."""
        pending: tuple[list[tuple[Row, Envelope | None]], list[Pending]] | None = None
        with _pool(self.workers) as pool:
            for rows in chunks:
                batch = [(row, self._decode(row)) for row in rows]
                futures = self._start(pool, batch) if self.workers else []
                if pending is not None:
                    self._walk(*pending, progress)
                pending = (batch, futures)
            if pending is not None:
                self._walk(*pending, progress)

    def _decode(self, row: Row) -> Envelope | None:
        if row.problem is not None:
            self.fault(row.node_id, row.seq, row.problem)
        if row.env is not None or row.problem is not None:
            return row.env
        try:
            return envelope.decode(row.data)
        except FieldError as exc:
            self.fault(row.node_id, row.seq, f"not a valid envelope ({exc})")
            return None

    def _start(self, pool: Executor, batch: list[tuple[Row, Envelope | None]]) -> list[Pending]:
        """Guess each envelope's key by following rotations ahead of the walk; verify on the pool."""
        jobs: list[Job] = []
        for row, env in batch:
            if env is None:
                continue
            first = self.first_keys.get(row.node_id)
            anchor = self.anchors.get(row.node_id)
            guess = self.guess.setdefault(row.node_id, anchor.key if anchor else first)
            if row.seq in self.enrolled.get(row.node_id, {}):
                guess = self.guess[row.node_id] = self.enrolled[row.node_id][row.seq]
            key = guess if guess is not None and guess.key_id == env.key_id else first
            if key is not None and key.key_id == env.key_id:
                jobs.append((key.public_key, bytes.fromhex(env.hash), bytes.fromhex(env.sig)))
            if env.type == ROTATION:
                with contextlib.suppress(KeyError, TypeError, ValueError, msgspec.DecodeError):
                    self.guess[row.node_id] = rotated_key(env)
        return submit_parts(pool, jobs, self.workers)

    def _chain(self, node_id: str, seq: int) -> _Chain | None:
        if node_id not in self.chains:
            first = self.first_keys.get(node_id)
            if first is None:
                self.chains[node_id] = None
                self.fault(node_id, seq, "the node has no enrolled key: its envelopes cannot be verified")
            else:
                anchor = self.anchors.get(node_id) or Anchor(0, GENESIS_HASH, first)
                keys = self.summary(node_id).keys
                enrolled = self.enrolled.get(node_id)
                self.chains[node_id] = _Chain(node_id, anchor, first, self.cache, keys, enrolled)
        return self.chains[node_id]

    def _walk(
        self,
        batch: list[tuple[Row, Envelope | None]],
        futures: list[Pending],
        progress: Callable[[int], None] | None,
    ) -> None:
        for part, future in futures:
            self.cache.update(zip(part, future.result(), strict=True))
        for row, env in batch:
            self.summary(row.node_id).checked += 1
            chain = self._chain(row.node_id, row.seq)
            if env is None:
                if chain is not None and row.seq == chain.last_seq + 1:
                    chain.last_seq = row.seq  # go on from the next one, as after any fault
                    if row.link is not None and _HEX64.fullmatch(row.link):
                        chain.last_hash = row.link
                continue
            if chain is not None and (problem := chain.check(env)) is not None:
                self.fault(row.node_id, problem.seq, problem.reason)
                chain.resume_after(env)
            if row.columns is not None:
                self._compare_columns(row, env)
            if env.node_id == row.node_id:
                self._match(env)
        self.cache.clear()
        if progress is not None:
            progress(len(batch))

    def _compare_columns(self, row: Row, env: Envelope) -> None:
        own = (env.seq, env.hash, env.event_id, env.type, env.schema, env.occurred_at, env.recorded_at)
        if own != row.columns:
            names = ", ".join(n for n, a, b in zip(COLUMNS, own, row.columns or (), strict=True) if a != b)
            self.fault(row.node_id, row.seq, f"the archive's columns disagree with its envelope: {names}")

    def _match(self, env: Envelope) -> None:
        for claim in self.claims.pop((env.node_id, env.seq), ()):
            if claim.receipt.hash != env.hash:
                self.fault(
                    env.node_id,
                    env.seq,
                    f"{claim.source} receipt for seq {env.seq} acknowledges hash {claim.receipt.hash[:16]}…, "
                    f"the {self.where} holds {env.hash[:16]}… (altered after acknowledgement)",
                )

    def finish(self, in_scope: Callable[[Receipt], bool] = lambda _r: True) -> Report:
        """Heads; receipts that nothing matched and node receipts the county's lack (in scope)."""
        for chain in self.chains.values():
            if chain is not None:
                summary = self.summary(chain.node_id)
                summary.head_seq, summary.head_hash = chain.last_seq, chain.last_hash
        for (node_id, seq), all_claims in sorted(self.claims.items()):
            claims = [c for c in all_claims if in_scope(c.receipt)]
            head = self.summary(node_id).head_seq
            lost = (
                f"but the {self.where} ends at seq {head} (tail truncated after acknowledgement)"
                if seq > head
                else f"which is missing from the {self.where} (dropped after acknowledgement)"
            )
            for claim in claims:
                self.fault(node_id, seq, f"{claim.source} receipt acknowledges seq {seq}, {lost}")
        self._node_receipts_kept(in_scope)
        faults = sorted(self.faults, key=lambda f: f.node_id)
        return Report(self.nodes, faults)

    def _node_receipts_kept(self, in_scope: Callable[[Receipt], bool]) -> None:
        """A receipt a node holds must be among the county's own (it keeps every one it signs)."""
        for claim in self.node_claims:
            r = claim.receipt
            if in_scope(r) and (r.node_id, r.seq, r.hash) not in self.county_heads:
                self.fault(
                    r.node_id, r.seq, f"the county's receipts lack the {claim.source} receipt for seq {r.seq}"
                )
