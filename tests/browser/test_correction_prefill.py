"""更正 opens the record's form prefilled with the record as it stands, including what the pickers
no longer offer: the member of a 返乡 (returned, so off the 返乡 form's list) fixed on the form, and
an attendee who has returned since still ticked. Headless Chromium against a real node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from services.branch_node.inputs import parse_item
from services.branch_node.members import MemberIndex
from services.branch_node.service import NodeService
from tests.browser.conftest import Watch
from tests.browser.outstation_form import sign_in
from tests.browser.outstation_server import serve_node
from tests.conftest import make_node_dir
from tests.samples import id_number

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect


def registered(n: int) -> dict[str, object]:
    return {
        "type": "member.registered",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "payload": {
            "personal": {"name": f"党员{n}", "id_number": id_number(n)},
            "home_branch": "v-shangtang",
            "flowed_out_on": "2019-03-01",
        },
    }


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeService]:
    """党员1 and 党员2 at an organisational life (seq 3); 党员1 returned after it (seq 4)."""
    node = NodeService(make_node_dir(tmp_path / "node"))
    node.record([parse_item(registered(n), node.keys) for n in (1, 2)])
    ids = [m.member_id for m in MemberIndex(node.log, node.keys).all()]
    orglife = {
        "type": "orglife.held",
        "occurred_at": "2026-02-01T09:00:00+08:00",
        "payload": {"org_id": "dongguan", "kind": "theme_day", "topic": "主题党日", "attendees": ids},
    }
    returned = {
        "type": "member.returned",
        "occurred_at": "2026-03-01T09:00:00+08:00",
        "payload": {"member_id": ids[0]},
    }
    node.record([parse_item(orglife, node.keys)])
    node.record([parse_item(returned, node.keys)])
    try:
        yield node
    finally:
        node.close()


def test_a_correction_keeps_the_member_and_the_attendees_the_pickers_no_longer_offer(
    watched_page: tuple[Page, Watch], node: NodeService
) -> None:
    page, watch = watched_page
    first, second = (m.member_id for m in MemberIndex(node.log, node.keys).all())
    with serve_node(node) as url:
        sign_in(page, url)
        records = page.locator("#records-list")
        records.locator('li[data-seq="4"]').get_by_role("button", name="更正").click()
        member = page.locator("#f-member_id")
        expect(member).to_have_value(first)
        expect(member).to_be_disabled()
        expect(member.locator("option:checked")).to_contain_text("党员1")

        records.locator('li[data-seq="3"]').get_by_role("button", name="更正").click()
        ticked = page.locator("#f-attendees input[type=checkbox]:checked")
        expect(ticked).to_have_count(2)
        page.fill("#f-topic", "主题党日（更正）")
        page.fill("#f-reason", "主题录入错误")
        page.click("#submit")
        expect(page.locator("#form-result")).to_contain_text("更正第 3 条")
    _, data = node.envelopes.after(4, 1)[0]
    correction = msgspec.json.decode(data)
    assert correction["type"] == "record.corrected"
    replacement = correction["payload"]["replacement"]
    assert replacement["topic"] == "主题党日（更正）"
    assert sorted(replacement["attendees"]) == sorted([first, second])
    watch.assert_clean()
