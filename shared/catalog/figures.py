"""Which event types count in which figure, read off the catalog (each type's `FIGURE`)."""

from __future__ import annotations

from shared.catalog import EVENT_TYPES
from shared.catalog.base import Figure


def types_of(figure: Figure) -> tuple[str, ...]:
    """The event types counting in `figure`, in catalog order."""
    return tuple(tag for tag, cls in EVENT_TYPES.items() if cls.FIGURE is figure)


FUND_TYPES = types_of(Figure.FUNDS)
PIONEER_TYPES = types_of(Figure.PIONEER)
EDUCATION_TYPES = types_of(Figure.EDUCATION)
