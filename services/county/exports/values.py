"""Values as an office reads them: times in China Standard Time, dates, money in 元."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from shared.catalog.base import CHINA_STANDARD_TIME


def china_time(text: str | None) -> datetime | None:
    """A canonical UTC time (`2026-01-05T01:00:00.000000Z`) as a China Standard Time wall clock,
    to the second and without a zone (Excel has none): 2026-01-05 09:00:00."""
    if not text:
        return None
    moment = datetime.fromisoformat(text).astimezone(CHINA_STANDARD_TIME)
    return moment.replace(tzinfo=None, microsecond=0)


def a_date(text: str | None) -> date | None:
    """A `YYYY-MM-DD` text as a date (None stays None)."""
    return date.fromisoformat(text) if text else None


def yuan(fen: int | None) -> Decimal | None:
    """Integer fen as 元, exactly (12345 → 123.45)."""
    return None if fen is None else Decimal(int(fen)) / 100


def china_now() -> datetime:
    """Now, as a China Standard Time wall clock to the second."""
    return datetime.now(UTC).astimezone(CHINA_STANDARD_TIME).replace(tzinfo=None, microsecond=0)
