"""deploy/compose.yaml, read as Docker Compose would (no docker here, so it is not run): the three
NATS servers of a JetStream cluster with R3 streams, PostgreSQL, the county and its ingest worker;
every `tongxin` command and option it runs is one the CLI has (`--help`, and its options and
environment variables), the NATS servers' config is one nats-server accepts, and every service
that stays up has a healthcheck."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from services.county.cli import app as county_app
from shared.nats_access import AccessDir
from tongxin.cli import app as tongxin_app
from tongxin.natsd import find_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
TONGXIN = Path(sys.executable).parent / "tongxin"
NATS = ("nats1", "nats2", "nats3")


def command_of(words: list[str]) -> Any:
    """The (click) command `tongxin <words>` runs (the county's group is loaded as `main` does)."""
    command: Any = typer.main.get_command(county_app if words[0] == "county" else tongxin_app)
    for word in words[1:] if words[0] == "county" else words:
        command = command.commands[word]
    return command


def tongxin_services() -> list[str]:
    return [name for name, s in SERVICES.items() if s.get("command", [""])[0] == "tongxin"]


def test_the_services_a_county_runs() -> None:
    assert {*NATS, "postgres", "county", "ingest", "nats-access", "nats-streams"} <= set(SERVICES)
    assert {"nats1-data", "nats2-data", "nats3-data", "postgres-data", "county-data"} <= set(
        COMPOSE["volumes"]
    )


@pytest.mark.parametrize("name", tongxin_services())
def test_every_tongxin_command_and_option_is_real(name: str) -> None:
    argv = SERVICES[name]["command"][1:]
    words = list(itertools.takewhile(lambda a: not a.startswith("-"), argv))
    done = subprocess.run([str(TONGXIN), *words, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    params = [p for p in command_of(words).params if p.param_type_name == "option"]
    options = {o for p in params for o in p.opts}
    assert {a for a in argv if a.startswith("--")} <= options
    envvars = {p.envvar for p in params if isinstance(p.envvar, str)}
    set_here = {k for k in SERVICES[name].get("environment", {}) if k.startswith("TONGXIN_")}
    assert set_here <= envvars, (
        f"{name} sets {set_here - envvars}, which `tongxin {' '.join(words)}` never reads"
    )


def test_three_nats_servers_in_one_cluster_with_r3_streams(tmp_path: Path) -> None:
    names = {SERVICES[n]["environment"]["NATS_SERVER_NAME"] for n in NATS}
    assert names == set(NATS)
    conf_mount = {v.split(":")[0] for n in NATS for v in SERVICES[n]["volumes"] if v.endswith(".conf:ro")}
    (conf_file,) = conf_mount
    text = (DEPLOY / conf_file).read_text()
    assert all(f"nats://{n}:6222" in text for n in NATS) and "jetstream" in text
    streams = SERVICES["nats-streams"]["command"]
    assert streams[streams.index("--replicas") + 1] == "3"
    # the config where the container has it, its include where the access volume is
    etc = tmp_path / "etc" / "tongxin" / "nats"
    etc.mkdir(parents=True)
    shutil.copy(DEPLOY / conf_file, etc / "cluster.conf")
    AccessDir(tmp_path / "var" / "lib" / "tongxin" / "access").ensure()
    for n in NATS:
        env = {**os.environ, "NATS_SERVER_NAME": n}
        done = subprocess.run(
            [find_binary(), "-t", "-c", str(etc / "cluster.conf")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_service_that_stays_up_is_health_checked() -> None:
    for name, service in SERVICES.items():
        if service.get("restart") == "no" or "profiles" in service:
            continue  # one-shot jobs; the ingest worker that runs only instead of the county
        assert "healthcheck" in service, name
    probe = " ".join(SERVICES["county"]["healthcheck"]["test"])
    assert "/health" in probe or "/ready" in probe


def test_the_ingest_worker_never_runs_beside_the_county() -> None:
    """`county serve` ingests itself; two ingest processes on one durable are not supported."""
    assert SERVICES["county"]["command"][1:3] == ["county", "serve"] and "profiles" not in SERVICES["county"]
    assert SERVICES["ingest"]["command"][1:3] == ["county", "ingest"] and SERVICES["ingest"]["profiles"]


def test_no_secret_in_the_file() -> None:
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            assert key.endswith("_FILE") or ("PASSWORD" not in key and "@" not in str(value)), name
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
