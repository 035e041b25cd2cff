"""Child processes of bench.county, each apart from the publishers (one process starves itself).

python -m bench.county_worker ingest --db URL --nats URL --commits FILE [--nats-seed county.seed]
    the county Consumer with an Ingestor that writes `node_id seq recorded_at received_at commit_time`
    per message once `process` has returned (the commit, when the API can see it)
python -m bench.county_worker node --dir DIR --nats URL --index J --nodes K --count N --rate R …
    one node of the latency step: records its share of N events at R/s in all, forwarding
python -m bench.county_worker feed --dirs DIR,… --nats URL --count N --rate R …
    remote nodes of the latency step, simulated (bench/county_feed.py)
python -m bench.county_worker raw --nats URL --count N [--nats-seed operator.seed]
    the raw baseline: a durable pull consumer, fetch(1000) + ack each, until N are acked;
    prints `ready`, then the wall-clock time of the last ack (after a flush)

`--nats-seed` is who connects (NATS with users): the county's seed for ingest, the operator's for
raw; nodes and the feeder connect as each node (its data dir's `nats.seed`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import IO

import msgspec
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.county.db.engine import make_engine
from services.county.ingest.consumer import Consumer
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.processor import Ingestor
from shared.nats_identity import NatsIdentity
from shared.transport import connect
from shared.wire import STREAM, events_filter

COUNTY = "jx"


class _Head(msgspec.Struct):
    node_id: str
    seq: int
    recorded_at: str


class TimedIngestor(Ingestor):
    """Appends (node_id, seq, recorded_at, received_at, commit time) for every message of a committed
    batch (received_at: when the county's consumer got it from NATS)."""

    def __init__(self, url: str, out: IO[str]) -> None:
        super().__init__(make_engine(url), COUNTY)
        self.out = out
        self.decoder = msgspec.json.Decoder(_Head)

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        outcomes = super().process(batch)
        now = time.time()
        lines = []
        for item, outcome in zip(batch, outcomes, strict=True):
            h = self.decoder.decode(item.data)
            lines.append(f"{h.node_id} {h.seq} {h.recorded_at} {item.received_at} {now:.6f} {outcome}\n")
        self.out.write("".join(lines))
        self.out.flush()
        return outcomes


def ingest(args: argparse.Namespace) -> None:
    with open(args.commits, "a", encoding="utf-8") as out:
        identity = NatsIdentity.from_file(args.nats_seed)
        consumer = Consumer(TimedIngestor(args.db, out), args.nats, identity=identity)

        async def main() -> None:
            stop, loop = asyncio.Event(), asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await consumer.run(stop)

        asyncio.run(main())


async def raw(args: argparse.Namespace) -> None:
    nc = await connect(args.nats, identity=NatsIdentity.from_file(args.nats_seed))
    try:
        js = nc.jetstream()
        config = ConsumerConfig(
            durable_name="bench-raw",
            filter_subject=events_filter(COUNTY),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            max_ack_pending=20_000,
        )
        sub = await js.pull_subscribe(
            events_filter(COUNTY), durable="bench-raw", stream=STREAM, config=config
        )
        print("ready", flush=True)
        acked, last = 0, 0.0
        while acked < args.count:
            try:
                msgs = await sub.fetch(1000, timeout=0.5)
            except (NatsTimeoutError, TimeoutError):
                continue
            for m in msgs:
                await m.ack()
            acked += len(msgs)
            last = time.time()
        await nc.flush()
        print(f"{last:.6f} {acked}", flush=True)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.county_worker", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest")
    a.add_argument("--db", required=True)
    a.add_argument("--nats", required=True)
    a.add_argument("--commits", required=True)
    a.add_argument("--nats-seed", type=Path, help="the county's NATS seed (none: anonymous)")
    text, real = {"--dir", "--dirs", "--nats"}, {"--rate", "--start"}
    for cmd, own in (("node", ("--dir", "--index", "--nodes")), ("feed", ("--dirs",))):  # latency
        c = sub.add_parser(cmd)
        for flag in (*own, "--nats", "--count", "--g0", "--villages", "--rate", "--start"):
            c.add_argument(flag, type=str if flag in text else float if flag in real else int, required=True)
    b = sub.add_parser("raw")
    b.add_argument("--nats", required=True)
    b.add_argument("--count", type=int, required=True)
    b.add_argument("--nats-seed", type=Path, help="the operator's NATS seed (none: anonymous)")
    args = ap.parse_args(argv)
    if args.cmd == "ingest":
        ingest(args)
    elif args.cmd == "node":
        from bench.county_latency import node_process

        node_process(args)
    elif args.cmd == "feed":
        from bench.county_feed import feed_process

        feed_process(args)
    else:
        asyncio.run(raw(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
