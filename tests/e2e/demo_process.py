"""`tongxin demo` as a child process of a test: started, read, stopped — and nothing left behind."""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from services.branch_node.clerk import Clerk
from tests.e2e.conftest import TONGXIN


class DemoProcess:
    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [TONGXIN, "demo", "--data-dir", str(data_dir), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.county = ""
        self.passwords: dict[str, str] = {}
        """The county accounts' passwords, as the demo prints them under the dashboard's address."""
        self.sessions: dict[str, str] = {}
        self.nodes: dict[str, str] = {}
        self.clerk_passwords: dict[str, str] = {}
        """The clerk's password at each node, as the demo prints it beside the node's address."""
        self._tokens: dict[str, str] = {}

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 300.0) -> str:
        """The first output line (from now on) that contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"demo exited ({self.proc.wait()}) before {text!r}:\n" + "\n".join(self.lines)
                )
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n" + "\n".join(self.lines))

    def wait_ready(self) -> None:
        line = self.wait_for("County dashboard")
        self.county = next(p for p in line.split() if p.startswith("http")).rstrip("/")
        self.wait_for("Ctrl-C stops everything")
        for line in self.lines:
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "node" and parts[2].startswith("http://"):
                self.nodes[parts[1]] = parts[2].rstrip("/")
                if parts[3:5] == ["clerk", "password"]:
                    self.clerk_passwords[parts[1]] = parts[5]
            if len(parts) >= 4 and parts[1] == "/" and parts[3].startswith("("):
                self.passwords[parts[0]] = parts[2]  # "analyst / PASSWORD  (分析员)", as printed

    def session(self, username: str) -> str:
        """Sign in with the account and password the demo printed; the session cookie's value."""
        if username not in self.sessions:
            body = json.dumps({"username": username, "password": self.passwords[username]}).encode()
            request = urllib.request.Request(
                self.county + "/api/v1/session", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as resp:
                cookie = resp.headers["Set-Cookie"]
            self.sessions[username] = cookie.split(";", 1)[0].split("=", 1)[1]
        return self.sessions[username]

    def api(self, path: str) -> Any:
        """GET from the county's API, signed in as the demo's account for that route."""
        user = next((u for prefix, u in ROUTE_USERS if path.startswith(prefix)), "analyst")
        return get_json(self.county + path, {"Cookie": f"tongxin_session={self.session(user)}"})

    def node_api(self, node_id: str, path: str) -> Any:
        """GET a node's API with a bearer token of the test's own (`node token add`, at the node's
        data dir), as any program other than the demo would."""
        if node_id not in self._tokens:
            data_dir = self.data_dir / "nodes" / node_id
            self._tokens[node_id] = Clerk(data_dir).add_token(f"test-{secrets.token_hex(4)}")
        headers = {"Authorization": f"Bearer {self._tokens[node_id]}"}
        return get_json(self.nodes[node_id] + path, headers)

    def stop(self) -> int:
        """Ctrl-C; returns the exit code. Fails if any child of the demo is still running."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(60)
        time.sleep(0.5)
        left = strays(self.data_dir)
        assert not left, f"processes left running: {left}"
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        deadline = time.monotonic() + 10
        while strays(self.data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in strays(self.data_dir):
            os.kill(pid, signal.SIGKILL)


ROUTE_USERS = (("/api/v1/audit", "auditor"), ("/api/v1/digest", "auditor"), ("/api/v1/nodes", "operator"))
"""Which of the demo's printed accounts reads which routes (the rest: the analyst)."""


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as resp:
        return json.loads(resp.read())


def strays(data_dir: Path) -> list[int]:
    """Processes whose command line names `data_dir` (the demo's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(data_dir) in cmdline and state != "Z" and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found
