"""The county database as its backup sees it: the kind a URL names (a SQLite file or PostgreSQL),
and PostgreSQL's own client tools, `pg_dump --format=custom` and `pg_restore`, given the database
of a SQLAlchemy URL in libpq's form (the password through PGPASSWORD, never on a command line) and
failing with their own message."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from services.county.db.engine import make_engine
from shared.backup import BackupError
from shared.private_files import PRIVATE_FILE, private_file


def sqlite_path(db_url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL; BackupError for anything else."""
    try:
        url = make_url(db_url)
    except ArgumentError:
        raise BackupError(f"--db: not a database URL: {db_url!r}") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        return None
    if backend != "sqlite":
        raise BackupError(f"--db: the county runs on SQLite or PostgreSQL, not {backend}")
    if not url.database or url.database == ":memory:":
        raise BackupError("--db: a SQLite database in memory has no file to back up or restore")
    return Path(url.database)


def libpq(db_url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL (`postgresql+psycopg://county:pw@db/tongxin`) as a libpq URI without its
    password (`postgresql://county@db/tongxin`), and the environment that carries the password."""
    try:
        url = make_url(db_url)
    except ArgumentError:
        raise BackupError(f"--db: not a database URL: {db_url!r}") from None
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"--db: not a PostgreSQL URL: {db_url!r}")
    env = {"PGPASSWORD": str(url.password)} if url.password is not None else {}
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def tool(name: str) -> str:
    """The path of pg_dump or pg_restore, or a BackupError saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found on PATH: install PostgreSQL's client tools "
            f"(Debian: apt-get install postgresql-client), of the server's major version or newer"
        )
    return found


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, check=False, env={**os.environ, **env}, timeout=None
        )
    except OSError as exc:
        raise BackupError(f"{args[0]} could not run: {exc}") from None
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed (exit {done.returncode}): {done.stderr.strip()}")


def dump(db_url: str, target: Path, snapshot: str | None = None) -> None:
    """`pg_dump --format=custom` of the URL's database into `target` (with `snapshot`: as the
    transaction that exported it sees the database)."""
    program = tool("pg_dump")
    uri, env = libpq(db_url)
    args = [program, "--format=custom", "--no-password", f"--file={target}"]
    if snapshot is not None:
        args.append(f"--snapshot={snapshot}")
    private_file(target)  # pg_dump writes into it: never readable by others
    _run([*args, f"--dbname={uri}"], env)
    os.chmod(target, PRIVATE_FILE)


def restore_dump(db_url: str, source: Path, *, clean: bool) -> None:
    """`pg_restore --no-owner` of a custom-format dump into the URL's database, in one transaction
    (all or nothing); with `clean`, the dump's objects are dropped first (--clean --if-exists)."""
    program = tool("pg_restore")
    uri, env = libpq(db_url)
    args = [program, "--no-owner", "--no-password", "--exit-on-error", "--single-transaction"]
    if clean:
        args += ["--clean", "--if-exists"]
    _run([*args, f"--dbname={uri}", str(source)], env)


def is_empty(db_url: str) -> bool:
    """Whether the database holds no table, view or sequence of its own."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    " AND n.nspname NOT LIKE 'pg_toast%'"
                )
            ).scalar_one()
    except DBAPIError as exc:
        raise BackupError(f"cannot reach the database: {exc.orig}") from None
    finally:
        engine.dispose()
    return int(count) == 0
