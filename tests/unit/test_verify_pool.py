"""VerifyPool: the same verdicts as verifying inline, in order, and a pool that survives its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from shared.signing import Job, Signer, VerifyPool, verify_all

PROJECT = Path(__file__).resolve().parents[2]


def jobs(n: int) -> list[Job]:
    """n signatures by three keys; every third one is forged (a flipped bit)."""
    signers = [Signer.generate() for _ in range(3)]
    out: list[Job] = []
    for i in range(n):
        signer = signers[i % 3]
        digest = i.to_bytes(32, "big")
        sig = bytearray(signer.sign(digest))
        if i % 3 == 2:
            sig[5] ^= 1
        out.append((signer.public_key, digest, bytes(sig)))
    return out


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_verdicts_are_those_of_verifying_inline_in_order(workers: int) -> None:
    batch = jobs(50)
    pool = VerifyPool(workers)
    try:
        assert pool(batch) == verify_all(batch) == [i % 3 != 2 for i in range(50)]
        assert pool([]) == []
    finally:
        pool.close()


def test_a_pool_whose_worker_was_killed_raises_once_then_starts_again() -> None:
    batch = jobs(9)
    pool = VerifyPool(1)
    try:
        assert pool(batch) == verify_all(batch)
        assert pool._pool is not None
        (pid,) = pool._pool._processes  # the one worker
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            for _ in range(50):  # the pool notices the death on its own thread
                pool(batch)
        assert pool(batch) == verify_all(batch)
    finally:
        pool.close()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_the_workers_exit_when_their_parent_is_killed() -> None:
    """`kill -9` of a county (the exactly-once test does it) must not leave idle workers behind."""
    script = (
        "import time\n"
        "from shared.signing import VerifyPool\n"
        "pool = VerifyPool(2)\n"
        "pool.start()\n"
        "print(*pool._pool._processes, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=PROJECT, text=True)
    workers: list[int] = []
    try:
        assert proc.stdout is not None
        workers = [int(pid) for pid in proc.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        proc.kill()
        proc.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
