"""Child processes of the demo: started with their logs in files, checked, stopped cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.private_files import PRIVATE_FILE, private_dir
from tongxin.procs import die_with_parent


class DemoError(RuntimeError):
    """Something the demo cannot go on without; the message says what and where to look."""


@dataclass
class Child:
    name: str
    args: list[str]
    log: Path
    health: str | None = None
    """URL that answers 200 once the child is up."""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        private_dir(self.log.parent)
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        os.fchmod(fd, PRIVATE_FILE)  # a log of an older demo may be 0644
        with os.fdopen(fd, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tongxin", *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the demo only; it stops the children in order
                preexec_fn=die_with_parent,  # noqa: PLW1509 - one C call, looked up before the fork
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ready(self) -> bool:
        if self.health is None:
            return self.alive
        try:
            with urllib.request.urlopen(self.health, timeout=1) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def terminate(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Supervisor:
    """The demo's children by name; `stop_all` stops them in reverse start order."""

    def __init__(self) -> None:
        self.children: dict[str, Child] = {}

    def start(self, child: Child) -> Child:
        self.children[child.name] = child
        child.start()
        return child

    def wait_ready(self, names: list[str], timeout: float = 90.0) -> None:
        waiting = set(names)
        deadline = time.monotonic() + timeout
        while waiting:
            for name in sorted(waiting):
                child = self.children[name]
                if not child.alive:  # checked first: another process may answer on its port
                    raise DemoError(
                        f"{name} exited while starting; its log {child.log} ends:\n{child.tail()}"
                    )
                if child.ready():
                    waiting.discard(name)
            if waiting and time.monotonic() > deadline:
                raise DemoError(f"not up within {timeout:.0f} s: {', '.join(sorted(waiting))}")
            time.sleep(0.2)

    def check(self) -> None:
        for child in self.children.values():
            if not child.alive:
                raise DemoError(
                    f"{child.name} stopped unexpectedly; its log {child.log} ends:\n{child.tail()}"
                )

    def restart(self, name: str, args: list[str]) -> Child:
        old = self.children[name]
        old.terminate()
        old.wait(15)
        return self.start(Child(name, args, old.log, old.health))

    def stop_all(self, timeout: float = 15.0) -> None:
        for child in reversed(list(self.children.values())):
            child.terminate()
        for child in reversed(list(self.children.values())):
            child.wait(timeout)


def http_json(url: str, body: Any = None, timeout: float = 30.0, token: str | None = None) -> Any:
    """GET (or POST `body` as JSON) and decode the JSON answer, with a bearer `token` if given (a
    node's or the county's: neither answers anyone else); 4xx/5xx raise DemoError with it."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise DemoError(f"{url}: HTTP {exc.code}: {exc.read()[:500].decode(errors='replace')}") from None
