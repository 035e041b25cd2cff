"""The county's roles (issue 14) and what each is for; every route names the roles it admits.

| Role | 中文 | May use |
|---|---|---|
| `analyst` | 分析员 | county-wide roster, figures, alerts, member cards, conflicts, node health |
| `township_officer` | 乡镇干部 | the same, scoped to one township: other townships are absent or 403 |
| `auditor` | 审计员 | audit verify, history, replay, digest, the signed export; quarantine |
| `operator` | 运维员 | node health, quarantine, metrics, digest, the organisation tree |

Enrolment, revocation, quarantine retry and accounts are the operator's CLI (`tongxin county …`),
run where the database is; they have no HTTP route.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ANALYST = "analyst"
    TOWNSHIP_OFFICER = "township_officer"
    AUDITOR = "auditor"
    OPERATOR = "operator"


ROLE_NAMES = {
    Role.ANALYST: "分析员",
    Role.TOWNSHIP_OFFICER: "乡镇干部",
    Role.AUDITOR: "审计员",
    Role.OPERATOR: "运维员",
}

READERS = (Role.ANALYST, Role.TOWNSHIP_OFFICER)
"""Who reads the roster, figures, alerts and member cards (a township officer scoped)."""
AUDIT = (Role.AUDITOR,)
OPS = (Role.OPERATOR,)
