"""The access directory under concurrent changes: enrolments run as separate processes (two
operators, or a script enrolling nodes in parallel) and none may lose another's node."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from shared.nats_access import AccessDir
from shared.nats_identity import new_seed, public_key

NODES = [f"os-{i:02d}" for i in range(12)]


def _allow(path: str, node_id: str, key: str) -> None:
    AccessDir(Path(path)).allow_node("jx", node_id, key)


def test_concurrent_enrolments_keep_every_node(tmp_path: Path) -> None:
    access = AccessDir(tmp_path / "access")
    access.ensure()
    keys = {n: public_key(new_seed()) for n in NODES}
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_allow, args=(str(access.path), n, k)) for n, k in keys.items()]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert {n: a.key for n, a in access.nodes().items()} == keys
    users = access.users_file.read_text()
    assert all(k in users for k in keys.values())
