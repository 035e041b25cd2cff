"""An archived event as projections see it, its subject, and business order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.catalog import EventBody
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.catalog.mechanism import PostCrossAssigned, RecruitmentReviewed
from shared.catalog.member import MemberRegistered


@dataclass(frozen=True)
class Fact:
    """One archived event: where it came from, when it happened, what it says."""

    node_id: str
    seq: int
    occurred_at: str
    type: str
    body: EventBody

    @property
    def order(self) -> tuple[str, str, int]:
        """Business order (DESIGN §3.4): by occurred_at, then node, then seq; never by arrival."""
        return (self.occurred_at, self.node_id, self.seq)

    @property
    def ref(self) -> str:
        return f"{self.node_id}:{self.seq}"

    @property
    def china_date(self) -> str:
        return datetime.fromisoformat(self.occurred_at).astimezone(CHINA_STANDARD_TIME).date().isoformat()


def subject_of(body: EventBody) -> str | None:
    """The entity an event is about: `m:<member>`, `o:<org>`, `c:<candidate>`; None for facts."""
    tag = type(body).__struct_config__.tag
    if isinstance(body, MemberRegistered | PostCrossAssigned) or str(tag).startswith("member."):
        return f"m:{body.member_id}"  # type: ignore[attr-defined]
    if str(tag).startswith("org."):
        return f"o:{body.org_id}"  # type: ignore[attr-defined]
    if isinstance(body, RecruitmentReviewed):
        return f"c:{body.candidate_id}"
    return None
