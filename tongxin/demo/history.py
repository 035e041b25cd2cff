"""The county's history, deterministic for a seed: every node's events in the order recorded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from tongxin.demo import members as people_out
from tongxin.demo.county import FIRST_YEAR
from tongxin.demo.members import Member
from tongxin.demo.orgs import mechanisms, org_tree
from tongxin.demo.pioneer import chambers, funds, pioneer
from tongxin.demo.timeline import Item, Timeline

MECHANISM_MONTHS = 18
"""Org life and lessons are simulated for the last year and a half."""


@dataclass(frozen=True)
class History:
    items: dict[str, list[Item]]
    """Every node's events in the order it records them."""
    members: list[Member]
    """The simulated members, for the live simulation to carry on with."""


def build(seed: int, members: int, end: date) -> History:
    """The county's history up to `end`, the same for the same seed, size and end."""
    tl = Timeline(random.Random(seed), date(FIRST_YEAR, 1, 2), end)
    org_tree(tl)
    crowd = people_out.simulate(tl, members)
    mechanisms(tl, crowd, end - timedelta(days=MECHANISM_MONTHS * 30))
    funds(tl)
    pioneer(tl)
    chambers(tl)
    return History(tl.items(), crowd)
