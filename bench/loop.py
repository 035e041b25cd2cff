"""A coroutine on an event loop of its own, in a thread: how the benches and the repair tests run a
county consumer and several forwarders side by side in one process, each stoppable on its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any


class Loop:
    """Runs `run(stop)` on its own event loop in a daemon thread until `close`."""

    def __init__(self, run: Callable[[asyncio.Event], Any]) -> None:
        self.stop = asyncio.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(run(self.stop),), daemon=True
        )
        self.thread.start()

    def close(self, *wake: asyncio.Event, timeout: float = 60.0) -> None:
        """Set `stop` (and each event of `wake`, e.g. a forwarder's), wait for the coroutine to
        end; raises if it has not ended within `timeout` seconds."""
        self.loop.call_soon_threadsafe(self.stop.set)
        for event in wake:
            self.loop.call_soon_threadsafe(event.set)
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"the coroutine did not stop within {timeout:g} s")
        self.loop.close()
