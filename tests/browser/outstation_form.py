"""Filling the outstation page's forms as a clerk would."""

from __future__ import annotations

from typing import Any

from tests.clerk import PASSWORD


def sign_in(page: Any, url: str, password: str = PASSWORD) -> None:
    """Open the page at `url` and sign in on its form, as the clerk does."""
    page.goto(url)
    page.fill("#signin-password", password)
    page.click("#signin-submit")
    page.wait_for_selector("#workspace:not([hidden])")


def fill_registration(page: Any, name: str, id_no: str, home_branch: str = "v-shangtang") -> None:
    """The register-a-member form (the form open when the page loads)."""
    page.fill("#f-personal-name", name)
    page.fill("#f-personal-id_number", id_no)
    page.fill("#f-home_branch", home_branch)
    page.fill("#f-host_location", "广东东莞")
    page.fill("#f-flowed_out_on", "2019-03-01")
