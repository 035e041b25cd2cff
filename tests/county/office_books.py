"""What the export tests share: the filled county per database, and the test's own reading of a
downloaded workbook and CSV (openpyxl and the csv module, not the code under test)."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate
from tests.browser.dashboard_county import fill_county
from tests.conftest import postgres_database

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CST = timezone(timedelta(hours=8))
EARLY = "2026-02-15"
"""About half the members are registered by then, and only the first figures have occurred."""


@contextlib.contextmanager
def filled_county(kind: str, root: Path) -> Iterator[Engine]:
    """The county of `tests/browser/dashboard_county.py` (60 members, three townships, a year of
    figures) on SQLite or PostgreSQL."""
    with contextlib.ExitStack() as stack:
        url = (
            f"sqlite:///{root / 'county.db'}"
            if kind == "sqlite"
            else stack.enter_context(postgres_database())
        )
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        fill_county(engine, root)
        yield engine


def get_json(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def fetch(client: TestClient, path: str, **params: Any) -> tuple[bytes, str, str]:
    """A download's body, its Chinese file name (filename*) and its ASCII fallback (filename)."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    plain = re.search(r'filename="([^"]+)"', disposition)
    full = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert plain and full, disposition
    assert plain.group(1).isascii()
    return response.content, unquote(full.group(1)), plain.group(1)


def open_book(body: bytes) -> Workbook:
    return load_workbook(io.BytesIO(body))


def rows_of(sheet: Worksheet) -> list[list[Any]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def csv_rows(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(text[1:])))


def china(text: str | None) -> datetime | None:
    """The test's own conversion of a UTC time to China Standard Time, to the second."""
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(CST).replace(tzinfo=None, microsecond=0)


def today_in_china() -> date:
    return datetime.now(CST).date()


def shown(cell: Any, number_format: str) -> str:
    """A workbook cell as its CSV twin must read (the test's own formatting)."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime(
            {"yyyy-mm-dd": "%Y-%m-%d", "yyyy-mm": "%Y-%m", "yyyy-mm-dd hh:mm": "%Y-%m-%d %H:%M"}[
                number_format
            ]
        )
    if number_format == "#,##0.00":
        return f"{cell:.2f}"
    if number_format == "0.00%":
        return f"{cell * 100:.2f}%"
    return str(cell)


def assert_no_none_text(book: Workbook) -> None:
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert "None" not in [str(v) for v in row if isinstance(v, str)], (sheet.title, row)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def county_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One filled county per database for the whole module (the tests only read it)."""
    with filled_county(request.param, tmp_path_factory.mktemp("export")) as engine:
        yield engine
