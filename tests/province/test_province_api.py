"""The province's API: its own roles, deny by default; answers in counts and sums only; and the
province trusts no county's word — it checks every envelope against its own enrolment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.county.accounts.roles import Role
from services.county.accounts.store import Accounts, TokenKind
from services.county.api.auth import PUBLIC
from services.county.db.engine import make_engine, migrate
from services.county.ingest.incoming import Incoming
from services.county.queries.figures import funds
from services.province.access import ProvinceRole, Tokens
from services.province.api import create_app
from services.province.cli import app
from services.province.store import ProvinceStore
from shared import envelope
from shared.signing import Signer
from shared.wire import events_subject
from tests.county.helpers import craft, open_node, record
from tests.samples import fund, id_number, registration

COUNTIES = ("anhua", "baojing")
ROUTES = ("/api/v1/province/figures", "/api/v1/province/roster", "/api/v1/province/ingest")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProvinceStore]:
    s = ProvinceStore(f"sqlite:///{tmp_path}/province/{{county}}.db", COUNTIES)
    try:
        yield s
    finally:
        s.close()


def fill(store: ProvinceStore, root: Path) -> dict[str, list[bytes]]:
    """Each county's node `dongguan` enrolled at the province, its events ingested there."""
    sent: dict[str, list[bytes]] = {}
    for c, cid in enumerate(COUNTIES, start=1):
        node = open_node(root / cid, "dongguan")
        store.enrol(cid, "dongguan", node.first_key.public_key_hex)
        datas = record(node, [registration(c * 100), fund(c * 100 + 1), fund(c * 100 + 2)])
        node.close()
        outcomes = store.ingestor(cid).process(  # type: ignore[union-attr]
            [Incoming(d, events_subject(cid, "dongguan")) for d in datas]
        )
        assert outcomes == ["archived"] * 3
        sent[cid] = datas
    return sent


@pytest.fixture
def client(store: ProvinceStore, tmp_path: Path) -> Iterator[tuple[TestClient, Tokens]]:
    fill(store, tmp_path / "nodes")
    tokens = Tokens(make_engine(f"sqlite:///{tmp_path}/province-meta.db"))
    yield TestClient(create_app(store, tokens)), tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_admits_only_its_role(client: tuple[TestClient, Tokens], tmp_path: Path) -> None:
    http, tokens = client
    analyst = bearer(tokens.add("wang", ProvinceRole.ANALYST))
    operator = bearer(tokens.add("li", ProvinceRole.OPERATOR))
    county_db = make_engine(f"sqlite:///{tmp_path}/county.db")
    migrate(county_db)
    accounts = Accounts(county_db)
    accounts.add("zhao", Role.ANALYST, "a-long-county-password-1")
    county_token = bearer(accounts.issue("zhao", TokenKind.BEARER).token)
    admitted = {ROUTES[0]: analyst, ROUTES[1]: analyst, ROUTES[2]: operator}
    for route, who in admitted.items():
        assert http.get(route, headers=who).status_code == 200
        refused = http.get(route)
        assert refused.status_code == 401 and refused.json()["detail"][0]["field"] == "authorization"
        assert http.get(route, headers=county_token).status_code == 401, "a county's token is nothing here"
        other = operator if who is analyst else analyst
        wrong = http.get(route, headers=other)
        assert wrong.status_code == 403 and wrong.json()["detail"][0]["field"] == "role"
    tokens.revoke("wang")
    assert http.get(ROUTES[0], headers=analyst).status_code == 401
    guarded = [r for r in http.app.routes if getattr(r, "path", "").startswith("/api/")]  # type: ignore[attr-defined]
    assert {r.path for r in guarded} == set(ROUTES)
    assert all(r.dependencies for r in guarded), "every /api route declares its roles"


def test_the_openapi_declares_401_and_403_on_every_route_but_health(
    client: tuple[TestClient, Tokens],
) -> None:
    """What the test above sees the app send, its OpenAPI says: 401/403 (`Refused`) on each
    guarded route, `/health` the one public route, and the 422 the body the app sends."""
    http, _ = client
    spec = http.app.openapi()  # type: ignore[attr-defined]
    public = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                assert operation[PUBLIC], path
                public.add(path)
                continue
            for code in ("401", "403"):
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Refused"}, (method, path, code)
    assert public == {"/health"}
    assert {p for p in spec["paths"] if p != "/health"} == set(ROUTES)
    schemas = spec["components"]["schemas"]
    assert "Refused" in schemas and "HTTPValidationError" not in schemas
    refused_422 = spec["paths"][ROUTES[0]]["get"]["responses"]["422"]["content"]["application/json"]
    assert refused_422["schema"] == {"$ref": "#/components/schemas/RequestRefused"}


def test_figures_are_the_counties_summed_and_inputs_are_bounded(client: tuple[TestClient, Tokens]) -> None:
    http, tokens = client
    who = bearer(tokens.add("wang", ProvinceRole.ANALYST))
    figures = http.get(ROUTES[0], headers=who).json()
    counties = {c["county_id"]: c["funds"]["received_total"] for c in figures["counties"]}
    expected = {
        cid: fund(c * 100 + 1)["payload"]["amount_fen"] + fund(c * 100 + 2)["payload"]["amount_fen"]
        for c, cid in enumerate(COUNTIES, start=1)
    }
    assert counties == expected
    assert figures["province"]["funds"]["received_total"] == sum(expected.values())
    roster = http.get(ROUTES[1], headers=who).json()
    assert roster["province"]["total"] == 2 and [c["total"] for c in roster["counties"]] == [1, 1]
    assert id_number(100) not in str(roster) + str(figures)
    for query, field in (
        ("from=2026-03-01&to=2026-01-01", "from"),
        ("from=1900-01-01", "from"),
        ("to=soon", "to"),
    ):
        refused = http.get(f"{ROUTES[0]}?{query}", headers=who)
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == field, query


def test_the_province_checks_each_envelope_against_its_own_enrolment(
    store: ProvinceStore, tmp_path: Path
) -> None:
    sent = fill(store, tmp_path / "nodes")
    ingestor = store.ingestor("anhua")
    assert ingestor is not None
    last = envelope.decode(sent["anhua"][-1])
    forger = Signer.generate()  # a county (or anyone on its stream) rewriting a node's event
    forged = craft(
        forger,
        node_id="dongguan",
        seq=last.seq + 1,
        type_="fund.received",
        payload=fund(9)["payload"],
        prev_hash=last.hash,
    )
    stranger = open_node(tmp_path / "stranger", "wenzhou")  # enrolled by the county perhaps, not here
    unknown = record(stranger, [fund(7, org="wenzhou")])
    stranger.close()
    outcomes = ingestor.process(
        [
            Incoming(forged, events_subject("anhua", "dongguan")),
            Incoming(unknown[0], events_subject("anhua", "wenzhou")),
        ]
    )
    assert outcomes == ["quarantined", "quarantined"]
    tokens = Tokens(make_engine(f"sqlite:///{tmp_path}/meta.db"))
    http = TestClient(create_app(store, tokens))
    state = http.get(ROUTES[2], headers=bearer(tokens.add("li", ProvinceRole.OPERATOR))).json()
    assert state["counties"][0] == {"county_id": "anhua", "archived": 3, "quarantined": 2}


def test_the_province_revokes_a_key_itself_and_takes_the_new_one(
    store: ProvinceStore, tmp_path: Path
) -> None:
    """A key the county revoked is revoked at the province by the province's operator: what it
    signed from the seq leaves the province's chain and figures; the new key is enrolled from it."""
    fill(store, tmp_path / "nodes")
    template = str(store.engines["anhua"].url).replace("anhua", "{county}")
    cli = CliRunner()
    args = [
        "revoke-key",
        "anhua",
        "dongguan",
        "--from-seq",
        "3",
        "--reason",
        "stolen",
        "--db-template",
        template,
    ]
    done = cli.invoke(app, args)  # the prompt, declined
    assert done.exit_code == 1
    done = cli.invoke(app, [*args, "--yes"])
    assert done.exit_code == 0, done.output
    assert "1 envelope(s) kept aside" in done.output
    with store.engines["anhua"].connect() as conn:
        assert funds(conn)["total"]["received_total"] == fund(101)["payload"]["amount_fen"]
    new = Signer.generate()
    again = [
        "enrol-node",
        "anhua",
        "dongguan",
        new.public_key_hex,
        "--from-seq",
        "3",
        "--db-template",
        template,
    ]
    done = cli.invoke(app, again)
    assert done.exit_code == 0 and "enrolled anhua/dongguan" in done.output, done.output
    taken = cli.invoke(app, ["revoke-key", "anhua", "dongguan", "--from-seq", "0", "--reason", "x", "--yes"])
    assert taken.exit_code == 2 and "--from-seq" in taken.output
