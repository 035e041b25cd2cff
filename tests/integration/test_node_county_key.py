"""`tongxin node county-key add|set HEX` after `init` (the command county/key_rotation.py names):
a bad key is one line and exit 2, and giving a key the node already trusts changes nothing — not
how it came, nor the end of a handover's overlap."""

from __future__ import annotations

from pathlib import Path

import msgspec
from typer.testing import CliRunner

from services.branch_node.cli import app as node_cli
from services.branch_node.county_trust import TRUST_FILE, TrustedKey, TrustFile
from shared.signing import Signer
from tests.conftest import make_node_dir

runner = CliRunner()


def county_key(data: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(node_cli, ["county-key", *args, "-d", str(data)])
    return result.exit_code, result.output


def test_a_node_made_without_the_key_is_given_it_once_and_again_changes_nothing(tmp_path: Path) -> None:
    data = make_node_dir(tmp_path / "node")
    key = Signer.generate()
    assert county_key(data, "add", key.public_key_hex) == (0, f"trusts county key {key.key_id} (of 1)\n")
    first = (data / TRUST_FILE).read_bytes()
    assert county_key(data, "add", key.public_key_hex.upper()) == (
        0,
        f"already trusts county key {key.key_id} (of 1)\n",
    )
    assert county_key(data, "set", key.public_key_hex) == (0, f"already trusts county key {key.key_id}\n")
    assert (data / TRUST_FILE).read_bytes() == first, "not written again"
    code, shown = county_key(data, "show")
    assert code == 0 and f"{key.key_id}  {key.public_key_hex}  (added)" in shown


def test_a_key_from_init_given_again_stays_the_init_one(tmp_path: Path) -> None:
    key = Signer.generate()
    data = make_node_dir(tmp_path / "node", county_public_key=key.public_key_hex)
    assert county_key(data, "add", key.public_key_hex)[1].startswith("already trusts")
    assert not (data / TRUST_FILE).exists()


def test_adding_a_key_handed_over_from_keeps_its_overlap(tmp_path: Path) -> None:
    data = make_node_dir(tmp_path / "node")
    old, new = Signer.generate(), Signer.generate()
    county_key(data, "add", old.public_key_hex)
    trust = msgspec.json.decode((data / TRUST_FILE).read_bytes(), type=TrustFile)
    handed = msgspec.structs.replace(trust.keys[0], handed_over_until="2026-12-01T00:00:00.000000Z")
    adopted = TrustedKey(
        key_id=new.key_id, public_key=new.public_key_hex, source=f"handover from {old.key_id}", added_at=""
    )
    (data / TRUST_FILE).write_bytes(msgspec.json.encode(TrustFile(keys=[handed, adopted])))
    assert (
        county_key(data, "add", old.public_key_hex)[1] == f"already trusts county key {old.key_id} (of 2)\n"
    )
    kept = msgspec.json.decode((data / TRUST_FILE).read_bytes(), type=TrustFile).keys
    assert kept == [handed, adopted], "the overlap's end is kept: the old key still retires"
    assert county_key(data, "set", new.public_key_hex)[1] == f"trusts county key {new.key_id}\n"
    (alone,) = msgspec.json.decode((data / TRUST_FILE).read_bytes(), type=TrustFile).keys
    assert alone.key_id == new.key_id and alone.source == "set"


def test_a_bad_key_is_one_line_naming_it(tmp_path: Path) -> None:
    data = make_node_dir(tmp_path / "node")
    for bad, why in (("zz", "must be 64 hex digits"), ("ab" * 31, "32 bytes, 64 hex digits")):
        code, said = county_key(data, "add", bad)
        assert code == 2, said
        assert len(said.strip().splitlines()) == 1 and said.startswith("error: HEX: ") and why in said
    assert not (data / TRUST_FILE).exists()
