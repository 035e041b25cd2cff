"""While the county's NATS is out of reach the node's forwarder retries at its own pace but warns
once, then less and less often (shared/warning_backoff.py, as the county's ingest does), and says
when forwarding works again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.service import NodeService
from tests.conftest import make_node_dir
from tests.integration.test_forwarding import Running, wait_until
from tests.streams import ensure_stream_sync
from tongxin.natsd import EmbeddedNats, free_port


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tongxin.node.forwarder"]


def test_forty_failed_attempts_warn_once_then_one_line_when_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = EmbeddedNats(tmp_path / "nats", port=free_port(), open_access=True)
    node = NodeService(make_node_dir(tmp_path / "node", nats_url=server.url))
    try:
        fwd = Forwarder(node, server.url, backoff=Backoff(base=0.01, cap=0.02))
        with caplog.at_level(logging.INFO, logger="tongxin.node.forwarder"), Running(fwd):
            # forty retries take well under the first 5 s of backoff
            wait_until(lambda: fwd.state.failures >= 40, what="failed attempts while NATS is down")
            warnings = [m for m in _messages(caplog) if m.startswith("forwarding interrupted")]
            assert len(warnings) == 1, warnings
            assert "(1 failed attempt(s) since the last warning" in warnings[0]
            server.start()
            ensure_stream_sync(server.url)
            wait_until(
                lambda: any("reachable again" in m for m in _messages(caplog)), what="the line when back"
            )
        back = [m for m in _messages(caplog) if "reachable again" in m]
        assert len(back) == 1 and back[0].startswith("the county's NATS reachable again after ")
        failed = int(back[0].split("after ")[1].split()[0])
        assert failed >= 40
    finally:
        node.close()
        server.stop()


def test_the_warnings_space_out_to_at_most_every_five_minutes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        fwd = Forwarder(node, node.config.nats_url)
        now = [0.0]
        fwd.warnings.clock = lambda: now[0]
        with caplog.at_level(logging.WARNING, logger="tongxin.node.forwarder"):
            for _ in range(3600):  # an hour down, an attempt a second
                fwd.warnings.failed("connect: ConnectionRefusedError()")
                now[0] += 1.0
        lines = _messages(caplog)
        # at 0, 5, 15, 35, 75, 155, 315 s, then every 300 s up to 3315 s: 7 + 10 lines in the hour
        assert len(lines) == 17, lines
        assert all(m.startswith("forwarding interrupted (") for m in lines)
        assert "(300 failed attempt(s)" in lines[-1]
    finally:
        node.close()
