"""The four mechanisms (四制) and education: cross posts, dual review, orglife, briefings, training."""

from __future__ import annotations

import enum

from shared.catalog.base import Attendees, EventBody, Figure, MemberId, PositiveCount, Text
from shared.ids import Slug


class ReviewSide(enum.StrEnum):
    OUTSTATION = "outstation"
    HOME = "home"


class ReviewDecision(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class OrglifeKind(enum.StrEnum):
    BRANCH_MEETING = "branch_meeting"  # 支部党员大会
    COMMITTEE_MEETING = "committee_meeting"  # 支委会
    GROUP_MEETING = "group_meeting"  # 党小组会
    PARTY_LESSON = "party_lesson"  # 党课
    THEME_DAY = "theme_day"  # 主题党日


class TrainingMode(enum.StrEnum):
    ON_SITE = "on_site"  # 送学上党课
    CLOUD = "cloud"  # 云党课
    SPECIAL = "special"  # 专题教育培训


class PostCrossAssigned(EventBody, frozen=True, kw_only=True, tag="post.cross_assigned"):
    """党内任职交叉制: a member takes a post in another organisation."""

    member_id: MemberId
    org_id: Slug
    post: Text


class RecruitmentReviewed(EventBody, frozen=True, kw_only=True, tag="recruitment.reviewed"):
    """党员发展双审制: a candidate needs approval from both the outstation and the home side."""

    candidate_id: MemberId
    org_id: Slug
    side: ReviewSide
    decision: ReviewDecision


class OrglifeHeld(EventBody, frozen=True, kw_only=True, tag="orglife.held"):
    FIGURE = Figure.EDUCATION
    org_id: Slug
    kind: OrglifeKind
    topic: Text
    attendees: Attendees


class LiaisonBriefing(EventBody, frozen=True, kw_only=True, tag="liaison.briefing"):
    """情况通报 between an outstation and its host-location organisation."""

    org_id: Slug
    host_org: Slug
    topic: Text


class TrainingHeld(EventBody, frozen=True, kw_only=True, tag="training.held"):
    FIGURE = Figure.EDUCATION
    org_id: Slug
    mode: TrainingMode
    title: Text
    attendees: Attendees
    hours: PositiveCount | None = None
