"""An asyncio TCP proxy for the soak: a listen port forwarded to a target (the nats-server), that
can be cut — every open connection aborted and new ones reset on accept — and restored.

    proxy = Proxy("127.0.0.1", nats_port)
    await proxy.start()            # proxy.port: where clients connect instead
    await proxy.cut()              # the link is down: clients see their connections reset
    proxy.restore()                # connections are forwarded again
    await proxy.close()

It runs inside the caller's event loop (no thread, no third-party dependency), so that loop must
never block. While cut, the port keeps listening (no other process can take it) and resets every
connection at once; a client sees the same as a refused connect: it cannot reach NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field

CHUNK = 64 * 1024


@dataclass
class ProxyStats:
    accepted: int = 0
    """Connections forwarded to the target."""
    refused: int = 0
    """Connections reset on accept because the link was cut (or the target was down)."""
    cuts: int = 0
    aborted: int = 0
    """Open connections aborted by a cut."""
    bytes_up: int = 0
    bytes_down: int = 0


@dataclass(eq=False)
class _Pair:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            writer.transport.abort()


class Proxy:
    """Forwards `host:port` (port 0: a free one, chosen at `start`) to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = port
        self.open = True
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._pairs: set[_Pair] = set()

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def connections(self) -> int:
        return len(self._pairs)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        """Abort every open connection and reset new ones until `restore`."""
        self.open = False
        self.stats.cuts += 1
        pairs, self._pairs = list(self._pairs), set()
        for pair in pairs:
            pair.abort()
            self.stats.aborted += 1
        for pair in pairs:
            for task in pair.tasks:
                task.cancel()
            await asyncio.gather(*pair.tasks, return_exceptions=True)

    def restore(self) -> None:
        self.open = True

    async def close(self) -> None:
        """Stop listening and abort everything (the proxy cannot be started again)."""
        if self._server is not None:
            self._server.close()
        await self.cut()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            _reset(writer)
            self.stats.refused += 1
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            self.stats.refused += 1
            return
        if not self.open:  # cut while connecting upstream
            up_writer.transport.abort()
            _reset(writer)
            self.stats.refused += 1
            return
        self.stats.accepted += 1
        pair = _Pair(writer, up_writer)
        self._pairs.add(pair)
        pair.tasks = [
            asyncio.create_task(self._pipe(reader, up_writer, pair, up=True)),
            asyncio.create_task(self._pipe(up_reader, writer, pair, up=False)),
        ]
        await asyncio.gather(*pair.tasks, return_exceptions=True)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: _Pair, *, up: bool
    ) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
                if up:
                    self.stats.bytes_up += len(data)
                else:
                    self.stats.bytes_down += len(data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # one side ended: end the other too (a NATS connection is useless half-closed)
            self._pairs.discard(pair)
            for other in (pair.client, pair.upstream):
                with contextlib.suppress(Exception):
                    other.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0) rather than FIN: the client's connect fails at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
