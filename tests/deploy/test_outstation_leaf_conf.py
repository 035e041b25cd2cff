"""deploy/nats/outstation-leaf.conf, and county-cluster.conf with its optional leafnodes block
uncommented, are configs nats-server accepts (`nats-server -t`): the node's public key where the
placeholder is, its seed in the include beside the file, the CA where the file says. What they do
is tests/leaf/ (the same settings on real servers)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import trustme

from shared.nats_identity import new_seed, public_key
from tests.deploy import test_nats_cluster_conf as cluster_conf
from tongxin.natsd import find_binary

CLUSTER = cluster_conf.TEMPLATE
LEAF = CLUSTER.parent / "outstation-leaf.conf"
PLACEHOLDER = "UNODEPUBLICKEYXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def checked(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([find_binary(), "-t", "-c", str(conf)], capture_output=True, text=True, check=False)


def test_the_leaf_template_is_a_valid_config(tmp_path: Path) -> None:
    seed = new_seed()
    text = LEAF.read_text()
    assert PLACEHOLDER in text and len(PLACEHOLDER) == len(public_key(seed))
    text = text.replace(PLACEHOLDER, public_key(seed)).replace('"/etc/tongxin', f'"{tmp_path}/etc/tongxin')
    etc = tmp_path / "etc" / "tongxin"
    (etc / "nats").mkdir(parents=True)
    (etc / "tls").mkdir()
    trustme.CA().cert_pem.write_to_path(str(etc / "tls" / "ca.pem"))
    conf = etc / "nats" / "outstation-leaf.conf"
    conf.write_text(text)
    done = checked(conf)
    assert done.returncode != 0 and "outstation-leaf-seed.conf" in done.stderr, "the seed include is read"
    (etc / "nats" / "outstation-leaf-seed.conf").write_text(f"nkey: {seed}\n")
    done = checked(conf)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cluster_template_with_its_leafnodes_block_is_a_valid_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = CLUSTER.read_text()
    last = '#default_js_domain: {"$G": ""}'
    start, end = original.index("#leafnodes {"), original.index(last) + len(last)
    block = original[start:end].splitlines()
    assert len(block) == 8 and all(line.startswith("#") for line in block)
    opened = original[:start] + "\n".join(line[1:] for line in block) + original[end:]
    copy = tmp_path / "county-cluster.conf"
    copy.write_text(opened)
    monkeypatch.setattr(cluster_conf, "TEMPLATE", copy)
    (tmp_path / "root").mkdir()
    cluster_conf.test_the_cluster_template_is_a_valid_config(tmp_path / "root")
