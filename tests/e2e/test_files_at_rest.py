"""The files that hold personal data or secrets are their owner's alone from the moment they are
made, whatever the umask of the process that makes them: a node's data dir (made by `node init`,
used by `node record`, `rotate-key`, `county-key add` and `node serve`, backed up and restored) 0700
with every file in it 0600, log.db's -wal and -shm included; a node dir an older version left
readable by others is narrowed by `node serve`, which says so in one log line (and its backup and
restore are narrowed whatever the modes it had); a county database
`county migrate` makes, its directory and key. Every command runs as a process, under umask 022 and
002."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import TONGXIN
from tests.samples import registration
from tongxin.natsd import free_port

UMASKS = [pytest.param(0o022, id="umask-022"), pytest.param(0o002, id="umask-002")]
COUNTY_PUBLIC_KEY = "11" * 32


def run(umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [TONGXIN, *args], capture_output=True, text=True, timeout=120, check=False, umask=umask
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def modes(root: Path) -> dict[str, str]:
    """Every directory and file under `root` (itself as `.`) with its mode, e.g. {"keys": "0700"}."""
    found = {".": f"{stat.S_IMODE(root.stat().st_mode):04o}"}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = f"{stat.S_IMODE(path.lstat().st_mode):04o}"
    return found


def assert_private(root: Path) -> None:
    found = modes(root)
    loose = {
        name: mode for name, mode in found.items() if mode != ("0700" if (root / name).is_dir() else "0600")
    }
    assert not loose, f"readable by others or not as made: {loose} (of {sorted(found)})"


@contextmanager
def serving(data: Path, umask: int) -> Iterator[subprocess.Popen[str]]:
    """`node serve` on a free port (NATS unreachable: it records and serves all the same), up."""
    port = free_port()
    proc = subprocess.Popen(
        [TONGXIN, "node", "serve", "-d", str(data), "--port", str(port), "--nats", "nats://127.0.0.1:1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        umask=umask,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, "node serve exited early"
                assert time.monotonic() < deadline, "node serve did not come up"
                time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def init(umask: int, data: Path, county_secret: str) -> None:
    run(umask, "node", "init", "--node-id", "dongguan", "--county-id", "jx", "--county-secret",
        county_secret, "-d", str(data), "--nats-url", "nats://127.0.0.1:1")  # fmt: skip


@pytest.mark.parametrize("umask", UMASKS)
def test_a_node_made_used_backed_up_and_restored_keeps_every_file_private(
    umask: int, tmp_path: Path, county_secret: str
) -> None:
    data = tmp_path / "site" / "node"  # its parent made by init too
    init(umask, data, county_secret)
    for i in range(3):
        item = registration(i)
        run(umask, "node", "record", item["type"], "--json", json.dumps(item["payload"]), "-d", str(data))
    run(umask, "node", "rotate-key", "-d", str(data))
    run(umask, "node", "county-key", "add", COUNTY_PUBLIC_KEY, "-d", str(data))
    assert stat.S_IMODE((tmp_path / "site").stat().st_mode) == 0o700
    assert {"log.db", "node.json", "clerk.json", "county-keys.json", "keys"} <= set(modes(data))
    assert_private(data)

    with serving(data, umask):
        present = modes(data)
        assert {"log.db-wal", "log.db-shm", "node.lock"} <= set(present), present
        assert_private(data)  # while serve holds its connections: the WAL and shared memory too

    backup, restored = tmp_path / "backups" / "dongguan", tmp_path / "restored"
    run(umask, "node", "backup", "-d", str(data), "--out", str(backup))
    run(umask, "node", "restore", "--from", str(backup), "-d", str(restored))
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    for tree in (data, backup, restored):
        assert_private(tree)
    assert "log.db" in modes(restored) and any(k.startswith("keys/") for k in modes(restored))


def test_an_older_node_dir_readable_by_others_is_made_private_when_served(
    tmp_path: Path, county_secret: str
) -> None:
    data = tmp_path / "node"
    init(0o022, data, county_secret)
    run(0o022, "node", "rotate-key", "-d", str(data))
    for path in [data, *data.rglob("*")]:  # as a version that left modes to the umask made it
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    loose = len(modes(data))
    backup = tmp_path / "backup"
    run(0o022, "node", "backup", "-d", str(data), "--out", str(backup))
    assert_private(backup)  # the copy is narrowed, and so is what a restore makes of it
    run(0o022, "node", "restore", "--from", str(backup), "-d", str(tmp_path / "restored"))
    assert_private(tmp_path / "restored")
    assert modes(data)["node.key"] == "0644", "a backup changes nothing in the node it copies"

    with serving(data, 0o022) as proc:
        assert_private(data)
    assert proc.stderr is not None
    told = [line for line in proc.stderr.read().splitlines() if "private to their owner" in line]
    assert len(told) == 1, told
    entry = json.loads(told[0])
    assert entry["level"] == "warning" and entry["data_dir"] == str(data)
    assert entry["tightened"] == loose
    assert ". 0755→0700" in entry["msg"] and "node.key 0644→0600" in entry["msg"]

    with serving(data, 0o022) as proc:  # nothing left to narrow: nothing said
        pass
    assert proc.stderr is not None
    assert "private to their owner" not in proc.stderr.read()


@pytest.mark.parametrize("umask", UMASKS)
def test_the_county_database_it_makes_and_its_key_are_private(umask: int, tmp_path: Path) -> None:
    db = tmp_path / "county" / "tongxin-county.db"
    run(umask, "county", "migrate", "--db", f"sqlite:///{db}")
    key = tmp_path / "keys" / "county.key"
    run(umask, "county", "key", "--county-key", str(key))
    for directory in (db.parent, key.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert_private(db.parent)  # a -wal or -shm left beside it would be 0600 too
