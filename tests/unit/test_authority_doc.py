"""docs/authority.md §3 is the code's rule table (`services.county.authority.rules.RULES`): one row
per event type of the catalog, in catalog order, saying who may say it and the reasons refused."""

from __future__ import annotations

import re
from pathlib import Path

from services.county.authority.rules import REASONS, RULES
from shared.catalog import EVENT_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "authority.md"
ROW = re.compile(r"^\| `([a-z_.]+)` \| (.+?) \| (.+?) \|$")


def doc_rows() -> list[tuple[str, str, tuple[str, ...]]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 3. The rule table", 1)[1].split("\n## ", 1)[0]
    table = section.split("| event type | who may say it | refused as |", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines():
        if found := ROW.match(line):
            reasons = () if found[3] == "—" else tuple(r.strip(" `") for r in found[3].split(","))
            rows.append((found[1], found[2], reasons))
    return rows


def test_the_doc_table_is_the_code_table_row_for_row() -> None:
    code = [(tag, rule.who, rule.reasons) for tag, rule in RULES.items()]
    assert doc_rows() == code


def test_the_code_table_covers_the_catalog_in_order_and_names_known_reasons() -> None:
    assert list(RULES) == list(EVENT_TYPES)
    assert {r for rule in RULES.values() for r in rule.reasons} == set(REASONS)


def test_the_doc_lists_every_reason_and_is_linked_from_the_readme() -> None:
    text = DOC.read_text(encoding="utf-8")
    for reason in REASONS:
        assert f"| `{reason}` |" in text
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "docs/authority.md" in readme
