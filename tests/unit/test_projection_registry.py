"""The projection registry covers the catalog: every event type has a home, none is silently ignored."""

from __future__ import annotations

from collections import Counter

from services.county.projections.figures import ROWS
from services.county.projections.projection import EntityProjection
from services.county.projections.registry import (
    APPLIED_TO_TARGET,
    ARCHIVE_ONLY,
    BUSINESS_TABLES,
    ENTITY_PROJECTIONS,
    FOLD_PROJECTIONS,
    KIND_OF_TYPE,
    PROJECTIONS,
    entity_of,
)
from services.county.queries.figures_spec import PIONEER
from shared.catalog import EVENT_TYPES, convert_payload
from shared.catalog.figures import EDUCATION_TYPES, FUND_TYPES, PIONEER_TYPES


def claimed() -> set[str]:
    return {t for p in PROJECTIONS for t in p.claims}


def test_every_catalog_type_is_claimed_by_a_projection_or_marked_archive_only() -> None:
    unclaimed = set(EVENT_TYPES) - claimed() - set(ARCHIVE_ONLY) - set(APPLIED_TO_TARGET)
    assert unclaimed == set(), f"event types no projection claims (and not ARCHIVE_ONLY): {sorted(unclaimed)}"


def test_claims_and_archive_only_name_catalog_types_and_do_not_overlap() -> None:
    assert claimed() <= set(EVENT_TYPES)
    assert set(ARCHIVE_ONLY) <= set(EVENT_TYPES)
    assert claimed() & set(ARCHIVE_ONLY) == set()
    assert set(APPLIED_TO_TARGET) <= set(EVENT_TYPES)
    assert (claimed() | set(ARCHIVE_ONLY)) & set(APPLIED_TO_TARGET) == set()


def test_an_event_type_is_about_one_kind_of_entity_at_most() -> None:
    kinds: dict[str, set[str]] = {}
    for p in ENTITY_PROJECTIONS:
        for t in p.claims:
            kinds.setdefault(t, set()).add(p.kind)
    assert {t: k for t, k in kinds.items() if len(k) > 1} == {}


def test_every_figure_type_has_a_facts_row_and_names_in_the_figures() -> None:
    rows = {str(cls.__struct_config__.tag) for cls in ROWS}
    assert set(FUND_TYPES + PIONEER_TYPES + EDUCATION_TYPES) <= rows
    assert tuple(PIONEER) == PIONEER_TYPES, "the pioneer figure names every pioneer type, in catalog order"


def test_each_table_belongs_to_one_projection_and_the_digest_order_is_unchanged() -> None:
    assert max(Counter(BUSINESS_TABLES).values()) == 1
    assert [t.name for t in BUSINESS_TABLES] == [
        "orgs",
        "members",
        "member_timeline",
        "co_managers",
        "recruitment",
        "activity",
        "trained",
        "facts",
        "conflicts",
        "refused_claims",
    ]


def test_no_fold_projection_claims_a_type_about_an_entity() -> None:
    """An entity's events are screened on the entity's history (a member's node may change), so
    they must reach no fold, which would see them judged alone (`rebuild.derive_entities`)."""
    folds = {t for p in FOLD_PROJECTIONS for t in p.claims}
    assert folds & set(KIND_OF_TYPE) == set()


def test_entity_routing_follows_the_claims() -> None:
    member = "a" * 32
    cross = convert_payload("post.cross_assigned", {"member_id": member, "org_id": "huadu", "post": "委员"})
    fund = convert_payload("fund.received", {"org_id": "huadu", "source": "fiscal", "amount_fen": 100})
    org = convert_payload("org.secretary_appointed", {"org_id": "huadu", "name": "李四"})
    assert entity_of(cross) == f"m:{member}"
    assert entity_of(org) == "o:huadu"
    assert entity_of(fund) is None, "a fund names an organisation but is a figure, not about the org"
    assert all(isinstance(p, EntityProjection) for p in ENTITY_PROJECTIONS)
