"""Member events: the life of one mobile Party member (流动党员) in the roster."""

from __future__ import annotations

from datetime import date

from shared.catalog.base import EventBody, MemberId, Note, Personal, Problems, Text, refuse_first
from shared.ids import Slug


class MemberRegistered(EventBody, frozen=True, kw_only=True, tag="member.registered"):
    """`home_branch` is the one affiliation (一方隶属); the rest are co-managers."""

    PAST_DATES = ("flowed_out_on",)

    member_id: MemberId
    personal: Personal
    home_branch: Slug
    outstation: Slug | None = None
    host_location: Text | None = None
    host_org: Slug | None = None
    occupation: Text | None = None
    flowed_out_on: date


class MemberMoved(EventBody, frozen=True, kw_only=True, tag="member.moved"):
    member_id: MemberId
    outstation: Slug | None = None
    host_location: Text
    host_org: Slug | None = None


class MemberReturned(EventBody, frozen=True, kw_only=True, tag="member.returned"):
    member_id: MemberId
    note: Note = ""


class MemberContactLost(EventBody, frozen=True, kw_only=True, tag="member.contact_lost"):
    PAST_DATES = ("last_contact_on",)

    member_id: MemberId
    last_contact_on: date | None = None
    note: Note = ""


class MemberContactRestored(EventBody, frozen=True, kw_only=True, tag="member.contact_restored"):
    member_id: MemberId
    note: Note = ""


class MemberTransferredOut(EventBody, frozen=True, kw_only=True, tag="member.transferred_out"):
    member_id: MemberId
    to_org: Text
    note: Note = ""


class MemberDetailsUpdated(EventBody, frozen=True, kw_only=True, tag="member.details_updated"):
    member_id: MemberId
    personal: Personal | None = None
    occupation: Text | None = None

    def __post_init__(self) -> None:
        refuse_first(self.problems())

    def problems(self) -> Problems:
        if self.personal is None and self.occupation is None:
            yield "occupation", "give at least one detail to update (personal or occupation)"


class MemberErased(EventBody, frozen=True, kw_only=True, tag="member.erased"):
    """The county decided to erase a member's personal data (PIPL art. 47): every copy of the
    member's keys is destroyed (crypto-shredding) and every view shows `[已删除]`; the member's
    other facts stay, so counts and figures stay right. Recorded by the county office's node."""

    PAST_DATES = ("decided_on",)

    member_id: MemberId
    decided_by: Text
    """Who decided (a person or body, e.g. 县委组织部)."""
    legal_basis: Text
    """E.g. 《个人信息保护法》第四十七条 and the request's reference."""
    decided_on: date
    note: Note = ""


class MemberStudyAccountOpened(EventBody, frozen=True, kw_only=True, tag="member.study_account_opened"):
    member_id: MemberId
    platform: Text = "潇湘红云·智慧党建"
    account: Text
