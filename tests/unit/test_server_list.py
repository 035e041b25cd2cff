"""A NATS URL or a cluster's servers (issue 17): one URL, a comma-separated `--nats` value or a
list, each the same server list for `nats.connect`."""

from __future__ import annotations

import pytest

from shared.transport import server_list, shown


def test_one_url_a_comma_separated_value_and_a_list_give_the_same_servers() -> None:
    one = "nats://127.0.0.1:4223"
    assert server_list(one) == [one]
    three = ["tls://a:4222", "tls://b:4222", "tls://c:4222"]
    assert server_list(" tls://a:4222, tls://b:4222 ,tls://c:4222,") == three
    assert server_list(three) == three
    assert server_list(["tls://a:4222,tls://b:4222", "tls://c:4222"]) == three
    assert shown(three) == "tls://a:4222,tls://b:4222,tls://c:4222"


def test_no_server_at_all_is_refused() -> None:
    for empty in ("", " , ", []):
        with pytest.raises(ValueError, match="no NATS server"):
            server_list(empty)
