"""PostgreSQL's statistics on the archive, refreshed (ANALYZE) beside the ingest, in a thread."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger("tongxin.county.ingest")

ANALYZE_MIN_ROWS = 10_000
"""PostgreSQL's statistics on the archive are refreshed after the first batch if the archive was
never analysed, then whenever the events archived since the last refresh reach half the archive
(at least this many). A refresh takes 0.1–0.5 s once the archive is large: it runs beside the
ingest, on its own connection (ANALYZE does not block writes), and rarely, since stale
statistics only hurt while the archive is small and grows fast."""


class Statistics:
    """When to refresh the archive's statistics, and the refresh itself (PostgreSQL only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._unanalyzed = 0
        self._analyze_after: int | None = None  # learnt at the first batch
        self.analyzer: threading.Thread | None = None
        """The statistics refresh running beside the ingest, if any."""

    def archived(self, events: int) -> None:
        """After a committed batch that archived `events`: refresh if enough have accumulated."""
        if self._analyze_after is None:
            rows = self._archive_rows()
            self._analyze_after = 0 if rows < 0 else max(ANALYZE_MIN_ROWS, rows // 2)
        self._unanalyzed += events
        if self._unanalyzed >= self._analyze_after:
            self.refresh()

    def _archive_rows(self) -> int:
        """PostgreSQL's estimate of the archive's rows (-1: never analysed)."""
        with self.engine.connect() as conn:
            query = "SELECT reltuples FROM pg_class WHERE relname = 'archive'"
            return int(conn.exec_driver_sql(query).scalar() or 0)

    def refresh(self) -> None:
        """Keep PostgreSQL's statistics fresh even where autovacuum is off (without them the
        planner scans the whole archive to re-derive a batch's members), in a thread: the
        ingest goes on meanwhile. One refresh at a time."""
        if self.analyzer is not None and self.analyzer.is_alive():
            return
        self._unanalyzed = 0
        self.analyzer = threading.Thread(target=self._analyze, name="analyze-archive", daemon=True)
        self.analyzer.start()

    def _analyze(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE archive")
                conn.commit()
            self._analyze_after = max(ANALYZE_MIN_ROWS, self._archive_rows() // 2)
        except Exception as exc:  # the next batch past the threshold tries again
            log.warning("ANALYZE archive failed", extra={"error": repr(exc)})
