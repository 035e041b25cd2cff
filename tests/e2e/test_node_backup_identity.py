"""A node restored from its backup is the same node to NATS and to the county: it keeps its NATS
seed (the user the county enrolled) and the county keys it trusts (added with
`node county-key add`), not only its chain and signing keys."""

from __future__ import annotations

from pathlib import Path

from shared.signing import Signer
from tests.conftest import make_node_dir
from tests.e2e.conftest import tongxin


def test_a_restored_node_keeps_its_nats_seed_and_the_county_keys_it_trusts(tmp_path: Path) -> None:
    data = make_node_dir(tmp_path / "node")
    added = Signer.generate().public_key_hex
    r = tongxin("node", "county-key", "add", added, "-d", str(data))
    assert r.returncode == 0, r.stderr
    shown = tongxin("node", "county-key", "show", "-d", str(data)).stdout
    backup, restored = tmp_path / "backup", tmp_path / "restored"
    assert tongxin("node", "backup", "-d", str(data), "--out", str(backup)).returncode == 0
    r = tongxin("node", "restore", "--from", str(backup), "-d", str(restored))
    assert r.returncode == 0, r.stderr
    assert (restored / "nats.seed").read_bytes() == (data / "nats.seed").read_bytes()
    assert (restored / "county-keys.json").read_bytes() == (data / "county-keys.json").read_bytes()
    assert tongxin("node", "county-key", "show", "-d", str(restored)).stdout == shown
    assert added[:16] in shown or added in shown
