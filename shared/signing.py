"""Ed25519 keys of nodes and of the county: generate, store (mode 0600), sign, verify."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.public import SealedBox
from nacl.signing import SigningKey, VerifyKey


def key_id_of(public_key: bytes) -> str:
    """A key's id: the first 16 hex digits of SHA-256 over its 32 raw public-key bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


class Signer:
    """A private signing key with its public half and key id."""

    def __init__(self, signing_key: SigningKey) -> None:
        self._key = signing_key
        self.public_key: bytes = bytes(signing_key.verify_key)
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def generate(cls) -> Signer:
        return cls(SigningKey.generate())

    @classmethod
    def from_seed_hex(cls, seed_hex: str) -> Signer:
        return cls(SigningKey(bytes.fromhex(seed_hex)))

    @classmethod
    def load(cls, path: Path) -> Signer:
        return cls.from_seed_hex(path.read_text().strip())

    def save(self, path: Path) -> None:
        """Write the 32-byte seed as hex to a new file readable by its owner only."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(bytes(self._key).hex() + "\n")

    @property
    def public_key_hex(self) -> str:
        return self.public_key.hex()

    def sign(self, digest: bytes) -> bytes:
        return bytes(self._key.sign(digest).signature)

    def unseal(self, box: bytes) -> bytes:
        """Open a sealed box made for this key with `seal_for` (raises nacl's CryptoError)."""
        return bytes(SealedBox(self._key.to_curve25519_private_key()).decrypt(box))


def seal_for(public_key: bytes, message: bytes) -> bytes:
    """Encrypt `message` so that only the holder of this Ed25519 public key's private half can
    read it: libsodium's sealed box (X25519, XSalsa20-Poly1305) to the key's Curve25519 form."""
    return bytes(SealedBox(VerifyKey(public_key).to_curve25519_public_key()).encrypt(message))


class Verifier:
    """A public key that checks signatures."""

    def __init__(self, public_key: bytes) -> None:
        self._key = VerifyKey(public_key)
        self.public_key = public_key
        self.key_id = key_id_of(public_key)

    @classmethod
    def from_hex(cls, public_key_hex: str) -> Verifier:
        return cls(bytes.fromhex(public_key_hex))

    def verify(self, digest: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(digest, signature)
        except BadSignatureError:
            return False
        return True


Job = tuple[bytes, bytes, bytes]
"""A signature to check: (public key, digest, signature)."""


def verify_all(jobs: Sequence[Job]) -> list[bool]:
    """Each job's verdict, in order (run in a worker process by `VerifyPool`)."""
    keys: dict[bytes, Verifier] = {}
    out = []
    for public_key, digest, sig in jobs:
        key = keys.get(public_key)
        if key is None:
            key = keys[public_key] = Verifier(public_key)
        out.append(key.verify(digest, sig))
    return out


Pending = tuple[Sequence[Job], "Future[list[bool]]"]
"""A part of a batch of jobs and the future of its verdicts."""


def submit_parts(pool: Executor, jobs: Sequence[Job], parts: int) -> list[Pending]:
    """`jobs` split into `parts` about equal runs, each submitted to `pool` (`verify_all`)."""
    step = max(1, -(-len(jobs) // parts))
    runs = [jobs[i : i + step] for i in range(0, len(jobs), step)]
    return [(run, pool.submit(verify_all, run)) for run in runs]


def exit_with_parent(parent: int, every: float = 0.5) -> None:
    """A worker process's initializer: exit when the process that started it is gone. A worker
    blocks on its task queue, whose write end it holds itself, so a parent killed with SIGKILL
    would otherwise leave it waiting forever (one more idle process per restart)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """`workers` spawned processes that exit with this one (see `exit_with_parent`)."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


class VerifyPool:
    """Checks batches of signatures in `workers` processes (spawned on first use), or inline
    with 0 workers. Processes, not threads: libsodium releases the GIL while it verifies, but
    takes it back after every signature, and on two cores a thread verifying beside a busy
    one spends more time handing the GIL over than verifying. A pool whose worker died is
    started again on the next call (the call that found it broken raises)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Spawn the workers and wait until each has imported what it needs (~0.4 s each on
        this machine), so that the first batch does not wait for that."""
        if self.workers > 0 and self._pool is None:
            self._pool = worker_pool(self.workers)
            for part in [self._pool.submit(verify_all, []) for _ in range(self.workers)]:
                part.result()

    def __call__(self, jobs: Sequence[Job]) -> list[bool]:
        if self.workers <= 0 or not jobs:
            return verify_all(jobs)
        self.start()
        assert self._pool is not None
        try:
            parts = submit_parts(self._pool, jobs, self.workers)
            return [ok for _, future in parts for ok in future.result()]
        except BrokenProcessPool:
            self._pool = None
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
