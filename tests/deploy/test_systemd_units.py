"""Every systemd unit in deploy/systemd/: `systemd-analyze verify` finds nothing to say, its
hardening scores at most 2.5 (`systemd-analyze security --offline`), it carries the directives an
IT office relies on, and every command it runs is a real `tongxin` command."""

from __future__ import annotations

import itertools
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTANCES = {"tongxin-nats@.service": "county-n1", "tongxin-county-ingest@.service": "1"}
"""The instance each template is checked as."""
BIN = Path(sys.executable).parent
"""Where this install's `tongxin` and `nats-server` are: the units' /opt/tongxin/bin in a test."""
HARDENING = {
    "User": "tongxin",
    "NoNewPrivileges": "true",
    "ProtectSystem": "strict",
    "PrivateTmp": "true",
    "CapabilityBoundingSet": "",
    "SystemCallFilter": "@system-service",
}
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed here")
ALL = sorted(p.name for p in UNITS.glob("*.service"))


def directives(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def installed_here(name: str, tmp_path: Path) -> Path:
    """The unit under its instance name, with /opt/tongxin/bin read as this install's bin dir
    (verify checks that every command exists); nothing else changed."""
    target = tmp_path / name.replace("@.", f"@{INSTANCES[name]}.") if "@." in name else tmp_path / name
    target.write_text((UNITS / name).read_text().replace("/opt/tongxin/bin", str(BIN)))
    return target


def test_the_units_an_office_needs_are_there() -> None:
    assert {
        "tongxin-node.service",
        "tongxin-nats.service",
        "tongxin-nats@.service",
        "tongxin-county.service",
        "tongxin-county-ingest@.service",
    } <= set(ALL)


@needs_systemd
@pytest.mark.parametrize("name", ALL)
def test_systemd_analyze_verify_has_nothing_to_say(name: str, tmp_path: Path) -> None:
    unit = installed_here(name, tmp_path)
    done = subprocess.run([ANALYZE or "", "verify", str(unit)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), "a warning is an ignored line"


@needs_systemd
@pytest.mark.parametrize("name", ALL)
def test_hardened_to_an_exposure_of_at_most_2_5(name: str, tmp_path: Path) -> None:
    unit = installed_here(name, tmp_path)
    done = subprocess.run(
        [ANALYZE or "", "security", "--offline=yes", "--threshold=25", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-600:]


@pytest.mark.parametrize("name", ALL)
def test_runs_as_tongxin_without_privileges_and_writes_only_its_data_dir(name: str) -> None:
    found = directives(name)
    assert {k: found.get(k, [None])[-1] for k in HARDENING} == HARDENING
    (writable,) = found["ReadWritePaths"]
    assert writable.startswith("/var/lib/tongxin") and " " not in writable


@pytest.mark.parametrize("name", ALL)
def test_every_command_is_a_real_command(name: str) -> None:
    (start,) = directives(name)["ExecStart"]
    argv = shlex.split(start.replace("%i", INSTANCES.get(name, "")))
    program = BIN / Path(argv[0]).name
    assert argv[0].startswith("/opt/tongxin/bin/") and program.exists()
    if program.name == "tongxin":
        words = list(itertools.takewhile(lambda a: not a.startswith("-"), argv[1:]))
        done = subprocess.run([str(program), *words, "--help"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        for option in (a.split("=")[0] for a in argv[1:] if a.startswith("--")):
            assert option in done.stdout, f"{' '.join(words)} has no {option}"
    else:
        done = subprocess.run([str(program), "--help"], capture_output=True, text=True, check=False)
        assert "-c" in done.stdout + done.stderr
