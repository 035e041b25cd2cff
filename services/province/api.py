"""The province's API: read-only, bearer tokens of the province's own roles (`access`).

`GET /api/v1/province/figures` — funds and pioneer work per county and the province's total
(optionally for a period, `from`/`to`); `GET /api/v1/province/roster` — members by status per
county and in the province; `GET /api/v1/province/ingest` — how much of each county the province
holds. Counts and sums only: no member, no name, no ID number or phone is ever in an answer (the
province could not open them anyway: docs/province.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Query
from sqlalchemy import func, select

from services.county.api.auth import answer_auth_errors, declare_auth_responses, public
from services.county.api.errors import declare_refusals, handle_refusals
from services.county.api.headers import SecurityHeaders
from services.county.db import tables as t
from services.province.access import ProvinceRole, Tokens, require
from services.province.figures import province_figures, province_roster
from services.province.store import ProvinceStore
from shared.errors import FieldError

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def create_app(store: ProvinceStore, tokens: Tokens) -> FastAPI:
    app = FastAPI(title="Tongxin province", version="1", docs_url=None, redoc_url=None)
    app.add_middleware(SecurityHeaders)
    app.state.tokens = tokens
    handle_refusals(app)
    declare_refusals(app)
    answer_auth_errors(app)
    declare_auth_responses(app)

    @app.get("/health", openapi_extra=public("liveness only: no data"))
    def health() -> dict[str, Any]:
        return {"status": "ok", "counties": len(store.county_ids)}

    @app.get("/api/v1/province/figures", dependencies=[require(ProvinceRole.ANALYST)])
    def figures(
        date_from: Annotated[
            date | None, Query(alias="from", description="First China date (inclusive).")
        ] = None,
        date_to: Annotated[date | None, Query(alias="to", description="Last China date (inclusive).")] = None,
    ) -> dict[str, Any]:
        """Funds and pioneer work of each county, and their sum: the province's."""
        for name, value in (("from", date_from), ("to", date_to)):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise FieldError(name, f"must be from {EARLIEST} to {LATEST}")
        return province_figures(store, date_from, date_to)

    @app.get("/api/v1/province/roster", dependencies=[require(ProvinceRole.ANALYST)])
    def roster() -> dict[str, Any]:
        """Members by status in each county, and in the province (counts only)."""
        return province_roster(store)

    @app.get("/api/v1/province/ingest", dependencies=[require(ProvinceRole.OPERATOR)])
    def ingest() -> dict[str, Any]:
        """Per county: envelopes archived at the province, and refused ones open in its quarantine."""
        out = []
        for cid in store.county_ids:
            with store.engines[cid].connect() as conn:
                archived = conn.execute(select(func.count()).select_from(t.archive)).scalar_one()
                q = t.quarantine.c
                refused = conn.execute(select(func.count()).where(q.resolved_at.is_(None))).scalar_one()
            out.append({"county_id": cid, "archived": int(archived), "quarantined": int(refused)})
        return {"counties": out}

    return app
