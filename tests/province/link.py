"""A TCP link between a county's nats-server and the province's leafnode port that a test cuts
and restores: the county's side of a WAN line. It carries bytes only (no NATS in it); cutting
closes its listener and every connection through it, so the county's server finds the province
unreachable until `restore` listens on the same port again. What the county's side sends it keeps
(`sent`), so a test can look at what the line carries."""

from __future__ import annotations

import contextlib
import socket
import threading

from tongxin.natsd import free_port


class Link:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host, self.target = host, target_port
        self.port = free_port(host)
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.sent: list[bytes] = []
        """Every chunk the county's side sent through the link, in order."""
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._open = self._open, set()
        for s in [*([listener] if listener else []), *conns]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return
            try:
                far = socket.create_connection((self.host, self.target), timeout=2)
            except OSError:
                near.close()
                continue
            far.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    near.close()
                    far.close()
                    return
                self._open |= {near, far}
            for a, b, kept in ((near, far, self.sent), (far, near, None)):
                threading.Thread(target=_pump, args=(a, b, kept), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket, kept: list[bytes] | None) -> None:
    try:
        while data := src.recv(65536):
            if kept is not None:
                kept.append(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
