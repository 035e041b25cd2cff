"""Building blocks of the event catalog: the base Struct, constrained scalar types, enums."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta, timezone
from typing import Annotated, ClassVar, Literal

import msgspec

from shared.bounds import TEXT_PATTERN
from shared.errors import invalid
from shared.ids import MEMBER_ID_PATTERN, whole

MemberId = Annotated[
    str,
    msgspec.Meta(
        pattern=whole(MEMBER_ID_PATTERN), description="a member's id: 32 hex, random at registration"
    ),
]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
"""A name, a place, a title: every short text field of the catalog (no control characters)."""
Note = Annotated[str, msgspec.Meta(max_length=2000, pattern=TEXT_PATTERN)]
"""A free-text note, possibly empty; the same characters as Text."""
Fen = Annotated[int, msgspec.Meta(gt=0, le=10**13, description="money in fen (分), > 0")]
FenOrZero = Annotated[int, msgspec.Meta(ge=0, le=10**13, description="money in fen (分), >= 0")]
Count = Annotated[int, msgspec.Meta(ge=0, le=10**7)]
PositiveCount = Annotated[int, msgspec.Meta(gt=0, le=10**7)]
Attendees = Annotated[list[MemberId], msgspec.Meta(min_length=1, max_length=5000)]

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
"""Business dates (a day someone flowed out, a last contact) are days in China."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_PHONE = re.compile(r"1[0-9]{10}")


def id_check_digit(first17: str) -> str:
    """The GB 11643 check digit (0-9 or X) of an ID number's first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-digit resident ID number (GB 11643), or None."""
    if not _ID_NUMBER.fullmatch(value):
        return "must be 18 characters: 17 digits and a check digit (0-9 or X)"
    if id_check_digit(value[:17]) != value[17]:
        return "check digit does not match (GB 11643)"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth date inside the ID number is not a date"
    return None


KeyId = Annotated[
    str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{32}$"), description="a member key's id (32 hex)")
]
B64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

Problems = Iterator[tuple[str, str]]
"""What a Struct's cross-field rules (its `problems` method) find: (field, message), in order.

The rules read only the Struct's fields, so `shared.catalog.every_error` can run them on values
converted one field at a time; `__post_init__` raises the first (`refuse_first`), as msgspec
keeps one message."""


def refuse_first(problems: Iterable[tuple[str, str]]) -> None:
    """Raise the first problem as a `__post_init__` must (`shared.errors.invalid`)."""
    for field, message in problems:
        raise invalid(field, message)


class Sealed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A member's personal data encrypted under that member's key (`shared.personal`): the
    envelope's hash and signature cover these bytes, and verify without any key."""

    alg: Literal["xchacha20poly1305-ietf"]
    key_id: KeyId
    nonce: Annotated[str, msgspec.Meta(min_length=32, max_length=32, pattern=whole(B64))]
    """24 random bytes, base64."""
    box: Annotated[str, msgspec.Meta(min_length=24, max_length=2048, pattern=whole(B64))]
    """The ciphertext and its 16-byte tag, base64."""


class Personal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False, omit_defaults=True):
    """Personal data of one person, kept together so that sealing it touches nothing else.

    Two forms: in clear (name, id_number, phone), as a clerk types it and as events recorded
    before sealing carry it; or `sealed` alone, as every node now records and sends it."""

    name: Text | None = None
    id_number: str | None = None
    phone: str | None = None
    sealed: Sealed | None = None

    def __post_init__(self) -> None:
        refuse_first(self.problems())

    def problems(self) -> Problems:
        if self.sealed is not None:
            if (self.name, self.id_number, self.phone) != (None, None, None):
                yield "sealed", "sealed personal data holds nothing else in clear"
            return
        if self.name is None:
            yield "name", "required field is missing"
        if self.id_number is None:
            yield "id_number", "required field is missing"
        elif problem := id_number_problem(self.id_number):
            yield "id_number", problem
        if self.phone is not None and not _PHONE.fullmatch(self.phone):
            yield "phone", "must be an 11-digit mobile number starting with 1"


class Figure(enum.StrEnum):
    """The county's figures (DESIGN §6) an event type counts in."""

    FUNDS = "funds"  # 五个一点
    PIONEER = "pioneer"  # 流动先锋 and the township chambers
    EDUCATION = "education"  # lessons and organisational life


class EventBody(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every catalog event. Subclasses set a stable dotted `tag` and may set:

    SCHEMA: the payload's schema version (grows, never changes meaning);
    PAST_DATES: date fields that may not lie after the event's `occurred_at`;
    FIGURE: the figure the event counts in (`shared.catalog.figures` lists them).
    """

    SCHEMA: ClassVar[int] = 1
    PAST_DATES: ClassVar[tuple[str, ...]] = ()
    FIGURE: ClassVar[Figure | None] = None


class OrgKind(enum.StrEnum):
    COUNTY_COMMITTEE = "county_committee"
    TOWNSHIP_COMMITTEE = "township_committee"
    VILLAGE_BRANCH = "village_branch"
    OUTSTATION = "outstation"
    HOST_ORG = "host_org"
    TOWNSHIP_CHAMBER = "township_chamber"


class OutstationMode(enum.StrEnum):
    SERVICE_STATION = "service_station"  # 服务站
    INDUSTRY_CHAIN = "industry_chain"  # 产业链
    BUILDING_MATERIALS = "building_materials"  # 建材
    LYCHEE = "lychee"  # 荔枝
    CHAMBER = "chamber"  # 商会


class VenueKind(enum.StrEnum):
    ACTIVITY_VENUE = "activity_venue"  # 活动阵地
    TEACHING_SITE = "teaching_site"  # 教学示范点


class VenueSource(enum.StrEnum):
    ENTERPRISE_HOSTED = "enterprise_hosted"  # 企业挂靠
    FACTORY_SPACE = "factory_space"  # 厂房腾挪
    RENTED = "rented"  # 房屋租赁
    LOCAL_SUPPORT = "local_support"  # 当地支持


class FundSource(enum.StrEnum):
    FISCAL = "fiscal"  # 财政拨
    DUES_REBATE = "dues_rebate"  # 党费返
    MEMBER_DONATION = "member_donation"  # 党员捐
    ORG_RAISED = "org_raised"  # 组织筹
    HOST_SUBSIDY = "host_subsidy"  # 当地补
