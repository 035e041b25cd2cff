"""The county's read queries in one place: each takes a Connection and plain values, returns JSON-ready data.

They live in `queries_*` modules by subject (roster, members, alerts, figures, ops); this module
names them all so that callers need one import.
"""

from __future__ import annotations

from services.county.api.queries_alerts import KINDS, AlertKind, alerts
from services.county.api.queries_common import (
    UNREGISTERED,
    UNREGISTERED_NAME,
    NotFoundError,
    OrgTree,
    load_tree,
)
from services.county.api.queries_figures import FigureFilter, GroupBy, education, funds, pioneer
from services.county.api.queries_members import list_orgs, member_card, member_management, org_co_managed
from services.county.api.queries_ops import conflicts, gaps, node_health, projection_digest, quarantine
from services.county.api.queries_roster import CSV_COLUMNS, roster_csv, roster_members, roster_summary
from shared.catalog.status import ACTIVE, STATUSES, Status

__all__ = [
    "ACTIVE",
    "CSV_COLUMNS",
    "KINDS",
    "STATUSES",
    "UNREGISTERED",
    "UNREGISTERED_NAME",
    "AlertKind",
    "FigureFilter",
    "GroupBy",
    "NotFoundError",
    "OrgTree",
    "Status",
    "alerts",
    "conflicts",
    "education",
    "funds",
    "gaps",
    "list_orgs",
    "load_tree",
    "member_card",
    "member_management",
    "node_health",
    "org_co_managed",
    "pioneer",
    "projection_digest",
    "quarantine",
    "roster_csv",
    "roster_members",
    "roster_summary",
]
