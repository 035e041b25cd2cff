"""Schemathesis against a branch node's OpenAPI (issue 14): generated requests for every operation
of a node with a registered member give no 5xx and no response that breaks the schema, and leave
its log a chain that verifies. The requests carry a bearer token: signed in, as a program is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.branch_node.api import create_app
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared import envelope
from shared.chain import verify_chain
from shared.signing import Verifier
from tests.clerk import bearer
from tests.conftest import make_node_dir
from tests.contract.harness import check_every_operation
from tests.samples import id_number


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeService]:
    node = NodeService(make_node_dir(tmp_path / "node"))
    item = {
        "type": "member.registered",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "payload": {
            "personal": {"name": "成员01", "id_number": id_number(1)},
            "home_branch": "v1",
            "host_location": "广东东莞",
            "flowed_out_on": "2019-03-01",
        },
    }
    node.record([parse_item(item, node.keys)])
    try:
        yield node
    finally:
        node.close()


def test_every_node_operation_keeps_its_contract(node: NodeService) -> None:
    app = create_app(node, allowed_hosts=("testserver",))  # the Host schemathesis' ASGI client sends
    ran = check_every_operation(app, headers=bearer(node))
    assert len(ran) >= 10, ran
    envelopes = [envelope.decode(data) for _, data in node.envelopes.after(0, 1_000_000)]
    key, verifier = node.first_key, Verifier(node.first_key.public_key)
    assert verify_chain(envelopes, lambda _n, k: verifier if k == key.key_id else None) == []
