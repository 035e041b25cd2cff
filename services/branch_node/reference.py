"""The county's reference data at the node (`shared.reference`): its organisation tree and the
members this node co-manages, fetched from the KV bucket by direct gets while connected, and
cached in the data dir (0600) so that the outstation page's pickers work offline.

The cache holds the documents as the county signed them: the co-managed members' names stay
sealed to this node's key and are opened only when the page asks (`ReferenceCache.members`). A
document is taken only if a county key this node trusts signed it (or, with no county key given
yet, unchecked, as receipts are), it names this county and node, and it is not older than the one
held.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import threading
from pathlib import Path
from typing import Any, TypeVar

from nacl.exceptions import CryptoError
from nats.js.errors import NotFoundError

from services.branch_node.county_trust import CountyTrust
from services.branch_node.forwarding_state import Backoff
from services.branch_node.service import NodeService
from shared import reference as r
from shared.errors import FieldError
from shared.private_files import write_private
from shared.signing import Signer
from shared.transport import connect
from shared.wire import refs_members_key, refs_orgs_key, refs_stream, refs_subject

log = logging.getLogger("tongxin.node.reference")

ORGS_FILE = "reference-orgs.json"
MEMBERS_FILE = "reference-members.json"
NAME_MISSING = "（姓名未到）"
"""The name of a co-managed member whose name the county could not give or this node not open."""
REFRESH_S = 60.0
"""Seconds between fetches while connected (the county republishes within seconds of a change)."""
FIRST_S = 5.0
"""Seconds between fetches while a document is not cached yet (a new node, a county just started)."""

D = TypeVar("D", r.OrgTreeDoc, r.CoManagedDoc)


class RefusedReferenceError(FieldError):
    """A reference document this node does not take (bounds, signature, county, node, age)."""


class ReferenceCache:
    """The two documents in the data dir, re-read when their file changes."""

    def __init__(self, directory: Path, county_id: str, node_id: str, trust: CountyTrust) -> None:
        self.directory, self.county_id, self.node_id, self.trust = directory, county_id, node_id, trust
        self.lock = threading.Lock()
        self._read: dict[str, tuple[int, Any]] = {}

    def _path(self, kind: type[Any]) -> Path:
        return self.directory / (ORGS_FILE if kind is r.OrgTreeDoc else MEMBERS_FILE)

    def held(self, kind: type[D]) -> D | None:
        """The cached document of `kind`; None if there is none, or if its file does not read as
        one (the next fetch replaces it)."""
        path = self._path(kind)
        with self.lock:
            try:
                stamp = path.stat().st_mtime_ns
            except FileNotFoundError:
                return None
            found = self._read.get(path.name)
            if found is None or found[0] != stamp:
                try:
                    found = (stamp, r.decode(path.read_bytes(), kind))
                except FieldError as exc:
                    log.warning("reference cache unreadable", extra={"file": path.name, "error": str(exc)})
                    path.unlink(missing_ok=True)
                    return None
                self._read[path.name] = found
            doc: D = found[1]
            return doc

    def verified(self, doc: r.OrgTreeDoc | r.CoManagedDoc) -> bool:
        """Whether a trusted county key signed `doc` (False: no county key is trusted)."""
        return any(doc.signed_by(v) for v in self.trust.verifiers())

    def take(self, data: bytes, kind: type[D]) -> bool:
        """Keep `data` if it is a newer document of `kind` for this node; whether it was kept."""
        doc = r.decode(data, kind)
        if self.trust.trusted() and not self.verified(doc):
            raise RefusedReferenceError(
                "reference", f"not signed by a county key this node trusts ({doc.key_id})"
            )
        if doc.county_id != self.county_id:
            raise RefusedReferenceError(
                "reference.county_id", f"for county {doc.county_id}, not {self.county_id}"
            )
        if isinstance(doc, r.CoManagedDoc) and doc.node_id != self.node_id:
            raise RefusedReferenceError("reference.node_id", f"for node {doc.node_id}, not {self.node_id}")
        before = self.held(kind)
        if before is not None and before.at >= doc.at:
            return False
        write_private(self._path(kind), data)
        return True

    def members(self, signer: Signer) -> list[dict[str, Any]]:
        """The co-managed members, their names opened with `signer` (this node's current key)."""
        doc = self.held(r.CoManagedDoc)
        if doc is None:
            return []
        out = []
        for m in doc.members:
            name = NAME_MISSING
            if m.name_box is not None and doc.sealed_to == signer.key_id:
                with contextlib.suppress(CryptoError, ValueError):
                    name = signer.unseal(base64.b64decode(m.name_box)).decode("utf-8")
            out.append(
                {
                    "member_id": m.member_id,
                    "name": name,
                    "home_branch": m.home_branch,
                    "status": m.status,
                    "roles": list(m.roles),
                }
            )
        return out


def cache_of(node: NodeService) -> ReferenceCache:
    return ReferenceCache(node.dir.path, node.config.county_id, node.node_id, node.county_trust)


async def fetch(js: Any, node: NodeService, cache: ReferenceCache) -> int:
    """Read both documents by direct gets and keep the newer ones; how many were kept."""
    county = node.config.county_id
    tree = await _get(js, refs_orgs_key(county))
    mine = await _get(js, refs_members_key(county, node.node_id))
    kept = 0
    if tree is not None:
        took: bool = await asyncio.to_thread(cache.take, tree, r.OrgTreeDoc)
        kept += took
    if mine is not None:
        took = await asyncio.to_thread(cache.take, mine, r.CoManagedDoc)
        kept += took
    return kept


async def _get(js: Any, key: str) -> bytes | None:
    """The newest value of `key` by a direct get (None: not published yet)."""
    try:
        msg = await js.get_msg(refs_stream(), subject=refs_subject(key), direct=True)
    except NotFoundError:
        return None
    data: bytes | None = msg.data
    return data


class ReferenceFetcher:
    """Fetches the reference data while `node serve` runs: at start, then every `every` seconds;
    after a failure, again after a backoff (one log line per new reason)."""

    def __init__(self, node: NodeService, nats_url: str, *, every: float = REFRESH_S) -> None:
        self.node, self.nats_url, self.every = node, nats_url, every
        self.cache = cache_of(node)
        self.backoff = Backoff(base=1.0, cap=60.0)
        self.fetched = 0
        self.last_error: str | None = None
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        nc: Any = None
        try:
            while not stop.is_set():
                held = self.cache.held(r.OrgTreeDoc) and self.cache.held(r.CoManagedDoc)
                delay = self.every if held else min(self.every, FIRST_S)
                try:
                    if nc is None:
                        nc = await connect(self.nats_url, identity=self.node.dir.nats_identity())
                    kept = await fetch(nc.jetstream(), self.node, self.cache)
                    if kept:
                        log.info("reference data fetched", extra={"documents": kept})
                    self.fetched += kept
                    self.backoff.reset()
                    self.last_error = None
                except Exception as exc:
                    reason = str(exc) if isinstance(exc, FieldError) else repr(exc)
                    if not isinstance(exc, FieldError) and nc is not None:
                        with contextlib.suppress(Exception):
                            await nc.close()
                        nc = None
                    delay = self.backoff.next_delay()
                    if reason != self.last_error:
                        log.warning("reference data not fetched", extra={"reason": reason})
                    self.last_error = reason
                await self._sleep(stop, delay)
        finally:
            if nc is not None:
                with contextlib.suppress(Exception):
                    await nc.close()

    async def _sleep(self, stop: asyncio.Event, delay: float) -> None:
        self.wake.clear()
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            woken.cancel()
