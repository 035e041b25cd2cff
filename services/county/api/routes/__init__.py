"""The query API's routes, one module per resource, each one `APIRouter(prefix, tags)`; `ROUTERS`
lists them all, in the order the OpenAPI shows them."""

from __future__ import annotations

from fastapi import APIRouter

from services.county.api.routes import (
    alerts,
    audit_integrity,
    audit_time,
    conflicts,
    digest,
    export,
    figures,
    members,
    nodes,
    orgs,
    quarantine,
    reveals,
    roster,
)

ROUTERS: tuple[APIRouter, ...] = (
    audit_integrity.router,
    audit_time.router,
    roster.router,
    export.router,
    members.router,
    reveals.router,
    orgs.router,
    alerts.router,
    figures.router,
    nodes.router,
    conflicts.router,
    quarantine.router,
    digest.router,
)
