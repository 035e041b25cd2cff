"""The outstation page has a form for every event type a clerk records, each field one of the
type's catalog fields (its options the field's values), every required field of the type on it,
every label in Chinese."""

from __future__ import annotations

import enum
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from shared.catalog import EVENT_TYPES
from shared.catalog.base import Personal
from shared.catalog.correction import CORRECTABLE
from tests.browser.conftest import Watch
from tests.browser.outstation_form import sign_in
from tests.browser.outstation_server import fresh_node
from tests.samples import id_number

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

CJK = re.compile(r"[\u4e00-\u9fff]")
FORMS_AS_JSON = """FORMS.map((f) => ({
  key: f.key, type: f.type, tab: f.tab, title: f.title, group: f.group,
  fields: f.fields.map((x) => ({
    path: x.path, label: x.label, kind: x.kind, required: !!x.required,
    options: x.options ? x.options.map((o) => o[0]) : null,
  })),
}))"""
TYPED = {"text": "测试", "int": "3", "yuan": "100", "date": "2019-03-01", "note": "备注"}
"""What the clerk types into a required field of each kind."""
CHOSEN = {
    ("member.registered", "home_branch"): "v1",
    ("member.details_updated", "occupation"): "司机",
    ("donation.made", "cash_fen"): "100",
    ("org.registered", "kind"): "host_org",
    ("org.registered", "org_id"): "changan",
    ("org.registered", "parent_id"): "dongguan",  # a host organisation sits under this outstation
    ("org.venue_opened", "venue_id"): "venue-1",
    ("liaison.briefing", "host_org"): "changan",
    ("recruitment.reviewed", "side"): "outstation",
}
"""Values a form needs beyond its required fields, or other than the first option."""


@pytest.fixture
def outstation(tmp_path: Path) -> Iterator[str]:
    with fresh_node(tmp_path / "node") as (url, _):
        yield url


def enum_values(annotation: Any) -> set[str] | None:
    """The values of an enum field (also inside `X | None`), None for any other."""
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            return {str(m.value) for m in arg}
    return None


def test_every_type_a_clerk_records_has_a_form_true_to_the_catalog(
    watched_page: tuple[Page, Watch], outstation: str
) -> None:
    page, watch = watched_page
    sign_in(page, outstation)
    forms: list[dict[str, Any]] = page.evaluate(FORMS_AS_JSON)
    assert sorted(f["type"] for f in forms) == sorted(CORRECTABLE)
    assert len(CORRECTABLE) == 31
    personal = {f.name for f in msgspec.structs.fields(Personal)}
    for form in forms:
        cls = EVENT_TYPES[form["type"]]
        fields = {f.name: f for f in msgspec.structs.fields(cls)}
        hints = typing.get_type_hints(cls, include_extras=True)
        assert CJK.search(form["tab"]) and CJK.search(form["title"]) and CJK.search(form["group"]), form[
            "type"
        ]
        paths = set()
        for f in form["fields"]:
            name, _, inner = f["path"].partition(".")
            paths.add(name)
            assert name in fields, (form["type"], f["path"])
            if inner:
                assert name == "personal" and inner in personal, (form["type"], f["path"])
            assert CJK.search(f["label"]), (form["type"], f["path"])
            if f["required"]:
                assert fields[name].required or inner, (form["type"], f["path"], "optional in the catalog")
            if f["kind"] == "select":
                allowed = enum_values(hints[name])
                assert allowed is not None and set(f["options"]) <= allowed, (form["type"], f["path"])
        needed = {n for n, f in fields.items() if f.required}
        if form["type"] == "member.registered":
            needed.discard("member_id")  # the node gives a registration its member id
        assert needed <= paths, (form["type"], needed - paths)
    watch.assert_clean()


def test_every_form_filled_as_a_clerk_would_records_its_event(
    watched_page: tuple[Page, Watch], outstation: str, tmp_path: Path
) -> None:
    page, watch = watched_page
    sign_in(page, outstation)
    forms: list[dict[str, Any]] = page.evaluate(FORMS_AS_JSON)
    # the registration first (the member forms pick that member), the transfer out last
    forms.sort(key=lambda f: f["type"] == "member.transferred_out")
    recorded = 0
    for form in forms:
        page.click(f"button[data-form={form['key']}]")
        for f in form["fields"]:
            value = CHOSEN.get((form["type"], f["path"]))
            if not f["required"] and value is None:
                continue
            target = f"#f-{f['path'].replace('.', '-')}"
            if form["type"] == "member.registered" and f["path"] == "personal.id_number":
                page.fill(target, id_number(77))
            elif f["kind"] == "select":
                page.select_option(target, value or f["options"][0])
            elif f["kind"] == "member":
                page.select_option(target, index=1)
            elif f["kind"] == "members":
                page.locator(f"{target} input[type=checkbox]").first.check()
            elif f["kind"] != "org" or value is not None:
                page.fill(target, value or TYPED[f["kind"]])
        page.click("#submit")
        expect(page.locator("#form-result")).not_to_be_empty()
        errors = page.locator(".field.invalid").all_inner_texts()
        assert not errors, (form["type"], errors, page.inner_text("#form-error"))
        recorded += 1
        expect(page.locator("#form-result")).to_contain_text(f"已记录「{form['title']}」，序号 {recorded}")
    expect(page.locator("#records-list li.record")).to_have_count(20)  # a page of them
    watch.assert_clean()
