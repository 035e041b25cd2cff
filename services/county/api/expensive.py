"""Heavy jobs at the county API: one at a time per caller, and only a few at once in all.

Verifying the archive, an audit export, a replay (`GET /api/v1/audit/replay`, and any query with
a past `known_at`) and the .xlsx/.csv exports each keep a core busy for seconds to minutes (verify
starts worker processes). Left alone, 16 concurrent verifies started 30 processes, and 60
concurrent `known_at` queries held /health for 8 s. The `Gate` lets each caller run one heavy job
at a time, and no more than `MAX_HEAVY` run at once across all callers (the county's machine has
2 cores). A request past either limit is refused at once with a 429, a `Retry-After` header and a
`detail` naming the parameter that made the job heavy (`errors.BusyError`; each such route
declares `errors.BUSY`). It is not queued:
while it waited, a queued request would hold one of the default threadpool's threads, and a full
threadpool is what starved /health.

A route takes a job with `_: Annotated[None, Depends(heavy_job(field), scope="function")]`;
`deps.get_point_conn` takes one itself, but only when it replays. A request holds at most one
job: taking one again within the same request (an export with a past `known_at`) does nothing.
The job is released when the dependency exits, whether the route returned or raised; with
`scope="function"` that is as soon as the route returns, before the answer is sent, so a client
asking again the moment it has its answer is not refused by its own previous request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import Request

from services.county.api.errors import BusyError

MAX_HEAVY = 2
"""Heavy jobs at once across all callers: one per core."""
RETRY_AFTER = 5
"""Seconds a refused caller is told to wait (`Retry-After`)."""


class Gate:
    """Who runs a heavy job now: at most one per caller key, at most `limit` in all (thread-safe:
    sync routes and their dependencies run in the threadpool)."""

    def __init__(self, limit: int = MAX_HEAVY) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    @property
    def busy(self) -> frozenset[str]:
        """The callers running a heavy job now."""
        with self._lock:
            return frozenset(self._busy)

    @contextmanager
    def hold(self, key: str, field: str) -> Iterator[None]:
        """Run `key`'s heavy job inside the block, or raise `BusyError` (naming `field`) at once."""
        with self._lock:
            if key in self._busy:
                raise BusyError(field, "a heavy job of yours is still running", RETRY_AFTER)
            if len(self._busy) >= self.limit:
                raise BusyError(field, f"{self.limit} heavy jobs are running already", RETRY_AFTER)
            self._busy.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(key)


def caller_key(request: Request) -> str:
    """Whose job this is: the signed-in account (`auth.authorize` admitted it before any route
    dependency runs), so that one user's jobs count as one whatever address they come from."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return f"user:{principal.username}"
    return f"ip:{request.client.host if request.client is not None else 'unknown'}"


def get_gate(request: Request) -> Gate:
    """The app's gate (`create_app` puts it on `app.state.heavy_jobs`)."""
    gate: Gate = request.app.state.heavy_jobs
    return gate


@contextmanager
def held(request: Request, field: str) -> Iterator[None]:
    """Hold the caller's heavy job for the block; a request that holds one already just goes on."""
    if getattr(request.state, "heavy_job", False):
        yield
        return
    with get_gate(request).hold(caller_key(request), field):
        request.state.heavy_job = True
        try:
            yield
        finally:
            request.state.heavy_job = False


def heavy_job(field: str) -> Callable[[Request], Iterator[None]]:
    """A dependency that holds the caller's heavy job while the route runs and its answer is
    sent; `field` names the parameter that makes the route heavy ("" for the route itself)."""

    def dependency(request: Request) -> Iterator[None]:
        with held(request, field):
            yield

    return dependency
