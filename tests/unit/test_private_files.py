"""shared.private_files: made private whatever the umask; an older tree narrowed, and told."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.private_files import narrowed, private_dir, private_file, tighten, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(params=[0o022, 0o002, 0o000], ids=["umask-022", "umask-002", "umask-000"])
def loose_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def test_dirs_and_files_are_made_private_whatever_the_umask(loose_umask: int, tmp_path: Path) -> None:
    made = private_dir(tmp_path / "a" / "b" / "data")
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", made)] == [0o700] * 3
    assert private_file(made / "log.db") and mode(made / "log.db") == 0o600
    assert not private_file(made / "log.db"), "an existing file is left alone"
    write_private(made / "state.json", b"{}\n")
    assert mode(made / "state.json") == 0o600 and (made / "state.json").read_bytes() == b"{}\n"
    assert sorted(p.name for p in made.iterdir()) == ["log.db", "state.json"], "no temporary file left"
    private_file(tmp_path / "c" / "county.db")
    assert mode(tmp_path / "c") == 0o700


def test_an_existing_parent_is_not_touched_but_the_dir_itself_is_narrowed(tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(parent, 0o755)
    (parent / "node").mkdir()
    os.chmod(parent / "node", 0o775)
    private_dir(parent / "node")
    assert mode(parent) == 0o755 and mode(parent / "node") == 0o700
    (parent / "file").write_text("")
    with pytest.raises(FileExistsError):
        private_dir(parent / "file")


def test_tighten_narrows_what_others_could_read_and_says_what(tmp_path: Path) -> None:
    root = tmp_path / "node"
    (root / "keys").mkdir(parents=True)
    for name, m in (("node.key", 0o644), ("log.db", 0o600), ("keys/k.key", 0o640), ("ro.txt", 0o444)):
        (root / name).write_text("x")
        os.chmod(root / name, m)
    os.chmod(root / "keys", 0o755)
    os.chmod(root, 0o750)
    outside = tmp_path / "outside"
    outside.write_text("")
    os.chmod(outside, 0o644)
    (root / "link").symlink_to(outside)

    changed = tighten(root)
    assert [str(c) for c in changed] == [
        ". 0750→0700",
        "keys 0755→0700",
        "node.key 0644→0600",
        "ro.txt 0444→0400",
        "keys/k.key 0640→0600",
    ]
    assert mode(root / "log.db") == 0o600 and mode(root / "ro.txt") == 0o400, "never widened"
    assert mode(outside) == 0o644, "a symbolic link is not followed"
    assert tighten(root) == []


def test_narrowed_keeps_the_owners_bits_only() -> None:
    assert [narrowed(m) for m in (0o644, 0o755, 0o600, 0o100640)] == [0o600, 0o700, 0o600, 0o600]
