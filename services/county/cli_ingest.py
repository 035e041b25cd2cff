"""`county ingest`: the county's ingest without the API — the one ingest, or worker N of W.

With --workers W (PostgreSQL), worker --worker of W ingests the nodes of its partitions
(`ingest/partitions.py`) through a durable consumer of its own, beside W - 1 others and a
`county serve --no-ingest` for the API (docs/operations.md §17.5).
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine

from services.county.cli_base import fail, open_engine
from services.county.cli_options import (
    CountyId,
    CountyKey,
    Db,
    DbFile,
    MaxClockAhead,
    Nats,
    NatsCa,
    NatsSeed,
    Partitions,
    PersonalKey,
    RepairGrace,
    Worker,
    Workers,
)
from services.county.db.engine import DEFAULT_DB_URL
from services.county.ingest.checks import MAX_CLOCK_AHEAD
from services.county.ingest.consumer import Consumer
from services.county.ingest.consumer_state import NatsRefusedError
from services.county.ingest.partitions import PARTITIONS, Share, ShareError
from services.county.ingest.processor import Ingestor
from services.county.keys import DEFAULT_COUNTY_KEY, load_signing
from services.county.personal.notices import send_notices
from services.county.personal.responder import answer_keys
from services.county.settings import CountySettings
from shared.wire import DEFAULT_NATS_URL

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
MAX_CLOCK_AHEAD_S = MAX_CLOCK_AHEAD.total_seconds()


def register(app: typer.Typer) -> None:
    @app.command(epilog="Example: tongxin county ingest --county-id jx --once")
    def ingest(
        county_id: CountyId,
        db: Db = DEFAULT_DB_URL,
        db_file: DbFile = None,
        nats: Nats = DEFAULT_NATS_URL,
        once: Annotated[bool, typer.Option(help="Stop when nothing is pending or awaiting its ack.")] = False,
        ack_wait: Annotated[
            float, typer.Option(help="Seconds before JetStream redelivers an unacked message.")
        ] = 30.0,
        county_key: CountyKey = DEFAULT_COUNTY_KEY,
        repair_grace: RepairGrace = 15.0,
        max_clock_ahead: MaxClockAhead = MAX_CLOCK_AHEAD_S,
        nats_seed: NatsSeed = None,
        nats_ca: NatsCa = None,
        personal_key: PersonalKey = None,
        worker: Worker = 0,
        workers: Workers = 1,
        partitions: Partitions = PARTITIONS,
    ) -> None:
        """Ingest from JetStream without the API (exactly once: commit, then ack); without --once it
        also asks nodes to re-send the gaps it holds. With --workers W, this is worker --worker of W,
        ingesting the nodes of its partitions (PostgreSQL)."""
        from shared.logs import configure

        configure()
        engine = open_engine(db)
        share = _share(engine, worker, workers, partitions)
        signing = load_signing(county_key, engine)
        ingestor = Ingestor(engine, county_id, signing, max_clock_ahead=timedelta(seconds=max_clock_ahead))
        settings = CountySettings(
            county_id, county_key=county_key, nats_seed=nats_seed, nats_ca=nats_ca, personal_key=personal_key
        )
        consumer = Consumer(
            ingestor,
            nats,
            ack_wait=ack_wait,
            repair_grace=repair_grace,
            identity=settings.nats_identity(),
            share=share,
        )
        answer_keys(consumer, engine, settings.county_id, signing, settings.personal_key_path())
        if share is None or share.worker == 0:  # the erasure notices: from one worker of W
            send_notices(consumer, engine, settings.county_id, signing)
        with Progress(TextColumn("ingested"), MofNCompleteColumn(), console=err, transient=True) as bar:
            task = bar.add_task("ingest", total=None)
            consumer.on_batch.append(lambda n: bar.advance(task, n))
            try:
                asyncio.run(_until_signal(consumer, once))
            except NatsRefusedError as exc:
                raise fail(str(exc)) from None
        out.print(f"ingested {consumer.state.messages} message(s): {dict(consumer.ingestor.counts)}")


def _share(engine: Engine, worker: int, workers: int, partitions: int) -> Share | None:
    """None: the one ingest, reading every node; else this worker's share (PostgreSQL only)."""
    if workers == 1 and worker == 0 and partitions == PARTITIONS:
        return None
    if workers > 1 and engine.dialect.name != "postgresql":
        raise fail("--workers: several ingest workers need PostgreSQL; SQLite has one ingest process")
    try:
        return Share(worker, workers, partitions)
    except ShareError as exc:
        raise fail(f"--{exc}") from None


async def _until_signal(consumer: Consumer, once: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await consumer.run(stop, once=once)
