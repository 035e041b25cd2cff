"""The county's database and receipt key backed up while the county runs, and restored.

SQLite is copied through its online backup API; PostgreSQL by `pg_dump --format=custom`, inside
a transaction whose snapshot the dump shares (`--snapshot`), so the manifest's heads and row count
are those of the dump exactly. The manifest records where each node's chain stood (node_heads),
the archive's row count, the Alembic revision and each file's SHA-256, and the names of what the
county keeps in NATS: its streams and durable consumer are not in the backup, the county creates
them again itself when it starts (shared/streams.py, services/county/ingest/durable.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import msgspec
from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from services.county.backup_db import dump, is_empty, restore_dump, sqlite_path, tool
from services.county.db import tables as t
from services.county.db.engine import make_engine
from services.county.ingest.durable import consumer_name
from services.county.ingest.position import read as position_of
from shared import backup as b
from shared.private_files import private_parents
from shared.wire import RECEIPTS_STREAM, RECEIPTS_SUBJECTS, STREAM, STREAM_SUBJECTS, events_filter

KIND = "county"
SQLITE_FILE = "county.db"
DUMP_FILE = "county.dump"
KEY_FILE = "county.key"


class Head(msgspec.Struct, frozen=True, kw_only=True):
    """Where one node's chain stood in the archive (node_heads)."""

    node_id: str
    last_seq: int
    last_hash: str


class NatsNames(msgspec.Struct, frozen=True, kw_only=True):
    """What the county keeps in NATS, for the operator: none of it is in the backup; the county
    creates the streams and its consumer again when it starts."""

    events_stream: str
    events_subjects: list[str]
    receipts_stream: str
    receipts_subjects: list[str]
    consumer: str
    """The county's durable pull consumer on the events stream (`county-<county id>`)."""
    consumer_filter: str | None
    note: str


class CountyManifest(msgspec.Struct, frozen=True, kw_only=True):
    """backup.json of a county backup."""

    format: int = b.FORMAT
    kind: str = KIND
    created_at: str
    db_kind: str
    """`sqlite` or `postgresql`: a backup is restored into a database of the same kind."""
    database: str
    """The database's file in the backup: county.db (SQLite) or county.dump (pg_dump, custom format)."""
    alembic_revision: str | None
    archive_rows: int
    stream_position: int | None
    """The highest events-stream seq the archive had ingested (ingest_position): on its next start
    the county re-reads the stream after it. None for a schema older than that table."""
    heads: list[Head]
    county_key: str | None
    """The receipt key's file in the backup (mode 0600), or None if none was backed up."""
    nats: NatsNames
    files: list[b.BackupFile]


@dataclass(frozen=True)
class Restored:
    manifest: CountyManifest
    replaced: list[Path]
    """What the restore moved aside (a SQLite file, a key file), never deleted."""
    key_restored: bool
    """The receipt key was written (False: none in the backup, or the same key already there)."""


def nats_names(county_id: str | None) -> NatsNames:
    return NatsNames(
        events_stream=STREAM,
        events_subjects=list(STREAM_SUBJECTS),
        receipts_stream=RECEIPTS_STREAM,
        receipts_subjects=list(RECEIPTS_SUBJECTS),
        consumer=consumer_name(county_id) if county_id else consumer_name("<county id>"),
        consumer_filter=events_filter(county_id) if county_id else None,
        note="not in this backup: the county creates the streams and its consumer again when it starts "
        "(shared/streams.py, services/county/ingest/durable.py)",
    )


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    heads: list[Head]
    archive_rows: int
    alembic_revision: str | None
    stream_position: int | None


def summary(conn: Connection) -> Summary:
    """What a county database holds, as its manifest records it."""
    try:
        rows = conn.execute(select(t.node_heads.c.node_id, t.node_heads.c.last_seq, t.node_heads.c.last_hash))
        heads = sorted((Head(node_id=r[0], last_seq=int(r[1]), last_hash=r[2]) for r in rows), key=_node)
        archived = int(conn.execute(select(func.count()).select_from(t.archive)).scalar_one())
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        position = position_of(conn, STREAM) if inspect(conn).has_table(t.ingest_position.name) else None
    except DBAPIError as exc:
        raise b.BackupError(f"not a county database: {exc.orig}") from None
    return Summary(heads=heads, archive_rows=archived, alembic_revision=revision, stream_position=position)


def _node(head: Head) -> str:
    return head.node_id


def backup(db_url: str, out: Path, county_key: Path | None, county_id: str | None = None) -> CountyManifest:
    """Back up the county database at `db_url` (and the receipt key) into the new directory `out`."""
    if county_key is not None and not county_key.is_file():
        raise b.BackupError(f"no county receipt key at {county_key} (pass --county-key)")
    path = sqlite_path(db_url)
    if path is None:
        tool("pg_dump")  # before anything is made
    with b.new_backup_dir(out) as building:
        if path is not None:
            kind, database = "sqlite", SQLITE_FILE
            b.copy_sqlite(path, building / SQLITE_FILE)
            copy = create_engine(f"sqlite:///{building / SQLITE_FILE}")
            try:
                with copy.connect() as conn:
                    found = summary(conn)
            finally:
                copy.dispose()
        else:
            kind, database = "postgresql", DUMP_FILE
            found = _dump_postgres(db_url, building / DUMP_FILE)
        names = [database]
        if county_key is not None:
            b.copy_file(county_key, building / KEY_FILE, county_key.stat().st_mode)
            names.append(KEY_FILE)
        manifest = CountyManifest(
            created_at=b.now(),
            db_kind=kind,
            database=database,
            alembic_revision=found.alembic_revision,
            archive_rows=found.archive_rows,
            stream_position=found.stream_position,
            heads=found.heads,
            county_key=KEY_FILE if county_key is not None else None,
            nats=nats_names(county_id),
            files=[b.describe(building, name) for name in names],
        )
        b.write_manifest(building, manifest)
    return manifest


def _dump_postgres(db_url: str, target: Path) -> Summary:
    """pg_dump of the database, sharing the snapshot in which heads and row count are read."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
                found = summary(conn)
                dump(db_url, target, snapshot)
    except DBAPIError as exc:
        raise b.BackupError(f"cannot read the county database: {exc.orig}") from None
    finally:
        engine.dispose()
    return found


def read(source: Path) -> CountyManifest:
    """A county backup's manifest, its files checked against it."""
    manifest = b.read_manifest(source, KIND, CountyManifest)
    allowed = {SQLITE_FILE if manifest.db_kind == "sqlite" else DUMP_FILE, KEY_FILE}
    paths = {f.path for f in manifest.files}
    if manifest.database not in paths or not paths <= allowed:
        raise b.BackupError(f"{source}/{b.MANIFEST} does not list a county backup's files: {sorted(paths)}")
    b.check_files(source, manifest.files)
    return manifest


def restore(source: Path, db_url: str, county_key: Path | None, *, force: bool = False) -> Restored:
    """Restore a county backup into the database at `db_url` (and its key to `county_key`).

    Everything is checked before anything changes: the files against the manifest, the kind of
    database, and that neither the database nor the key file would be overwritten unless `force`.
    With `force` a SQLite file (and a different key file) is moved aside, never deleted; a
    PostgreSQL database has the backup's objects dropped and created again (pg_restore --clean)."""
    manifest = read(source)
    path = sqlite_path(db_url)
    if (path is not None) != (manifest.db_kind == "sqlite"):
        raise b.BackupError(
            f"{source} is a backup of a {manifest.db_kind} database; restore it into one of that kind"
        )
    key_target = county_key if county_key is not None and manifest.county_key else None
    key_aside = _key_in_the_way(source / KEY_FILE, key_target, force)
    replaced: list[Path] = []
    if path is not None:
        replaced += _restore_sqlite(source / SQLITE_FILE, path, manifest, force)
    else:
        tool("pg_restore")
        if not force and not is_empty(db_url):
            raise b.BackupError(
                "the database already holds tables; pass --force to drop and re-create the backup's "
                "objects in it (pg_restore --clean --if-exists), or restore into an empty database"
            )
        restore_dump(db_url, source / DUMP_FILE, clean=force)
    key_restored = False
    if key_target is not None:
        if key_aside:
            replaced.append(b.move_aside(key_target))
        if not key_target.exists():
            key_restored = True
            private_parents(key_target)
            entry = next(f for f in manifest.files if f.path == KEY_FILE)
            b.copy_file(source / KEY_FILE, key_target, int(entry.mode, 8))
    _check_restored(db_url, manifest)
    return Restored(manifest=manifest, replaced=replaced, key_restored=key_restored)


def _key_in_the_way(backed_up: Path, target: Path | None, force: bool) -> bool:
    """Whether a different key file sits at `target` (refused unless `force`: then moved aside)."""
    if target is None or not target.exists():
        return False
    if target.is_file() and target.read_bytes() == backed_up.read_bytes():
        return False
    if not force:
        raise b.BackupError(
            f"{target} holds another county key; pass --force to move it aside and restore the backed-up one"
        )
    return True


def _restore_sqlite(backed_up: Path, path: Path, manifest: CountyManifest, force: bool) -> list[Path]:
    there = [p for p in (path, _side(path, "-wal"), _side(path, "-shm")) if p.exists()]
    if there and not force:
        raise b.BackupError(
            f"{path} already holds a county database; pass --force to move it aside "
            f"({path.name}.replaced-<time>, nothing is deleted) and restore the backup in its place"
        )
    entry = next(f for f in manifest.files if f.path == SQLITE_FILE)
    with b.staging_beside(path) as staging:
        built = staging / path.name
        b.copy_file(backed_up, built, int(entry.mode, 8))
        b.check_files(staging, [msgspec.structs.replace(entry, path=path.name)])
        b.to_wal(built)
        moved: list[Path] = []
        if path.exists():
            aside = b.move_aside(path)
            moved.append(aside)
            for suffix in ("-wal", "-shm"):  # SQLite finds them by name: they keep their pairing
                if _side(path, suffix).exists():
                    os.rename(_side(path, suffix), _side(aside, suffix))
        else:
            for suffix in ("-wal", "-shm"):  # left without their database
                if _side(path, suffix).exists():
                    moved.append(b.move_aside(_side(path, suffix)))
        os.rename(built, path)
    return moved


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _check_restored(db_url: str, manifest: CountyManifest) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            found = summary(conn)
    finally:
        engine.dispose()
    if found.heads != manifest.heads or found.archive_rows != manifest.archive_rows:
        raise b.BackupError(
            f"the restored database holds {found.archive_rows} archived row(s) and the heads of "
            f"{len(found.heads)} node(s); the backup says {manifest.archive_rows} and {len(manifest.heads)}"
        )
