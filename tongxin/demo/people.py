"""Invented people: names, valid resident ID numbers (GB 11643), mobile numbers."""

from __future__ import annotations

import random
from datetime import date, timedelta

from shared.catalog.base import id_check_digit

SURNAMES = "李王张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢唐邓"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红梅志成德福春生海云"
REGION = "431127"
"""The six-digit area code at the start of the county's ID numbers."""


def id_number(index: int, rng: random.Random) -> str:
    """A valid ID number of someone born 1960–1999, distinct for indexes below 28,000: the
    index's last three digits are the sequence code, its thousands the birth day."""
    born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 40))
    born = born.replace(day=1 + (index // 1000) % 28)
    body = f"{REGION}{born:%Y%m%d}{index % 1000:03d}"
    return body + id_check_digit(body)


def name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(SURNAMES) + given


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
