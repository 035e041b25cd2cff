"""Realistic request items for tests: valid ID numbers, a member per index, mixed event types."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import openpyxl

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(i: int) -> str:
    """A valid 18-character resident ID number (GB 11643 check digit), distinct per i."""
    born = date(1960, 1, 1) + timedelta(days=i % 12_000)
    body = f"431126{born:%Y%m%d}{(i // 12_000) % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def xlsx(rows: list[list[Any]], header: list[str]) -> bytes:
    """A workbook whose first sheet has `header`, then `rows`, as an .xlsx file's bytes."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def registration(i: int, outstation: str = "dongguan") -> dict[str, Any]:
    """Member i's registration, with its member id given (`tests.ids.sample_member_id`), so that
    tests can name the member before and after it is recorded."""
    from tests.ids import sample_member_id

    return {
        "type": "member.registered",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "payload": {
            "member_id": sample_member_id(i),
            "personal": {"name": f"成员{i}", "id_number": id_number(i), "phone": f"138{i:08d}"},
            "home_branch": f"village-{i % 7}",
            "outstation": outstation,
            "host_location": "广东东莞",
            "occupation": "皮具加工",
            "flowed_out_on": "2019-03-01",
        },
    }


def fund(i: int, org: str = "dongguan") -> dict[str, Any]:
    sources = ["fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy"]
    return {
        "type": "fund.received",
        "occurred_at": "2026-02-01T10:00:00+08:00",
        "payload": {"org_id": org, "source": sources[i % 5], "amount_fen": 10_000 + i},
    }


def mixed(n: int, start: int = 0) -> list[dict[str, Any]]:
    """n items: every third a registration (member i), the rest funds and disputes."""
    items: list[dict[str, Any]] = []
    for i in range(start, start + n):
        if i % 3 == 0:
            items.append(registration(i))
        elif i % 3 == 1:
            items.append(fund(i))
        else:
            items.append(
                {
                    "type": "dispute.mediated",
                    "occurred_at": "2026-03-01T15:00:00+08:00",
                    "payload": {
                        "org_id": "dongguan",
                        "category": "wages",
                        "outcome": "resolved",
                        "recovered_fen": i,
                    },
                }
            )
    return items
