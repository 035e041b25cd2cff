"""How the demo signs in at its nodes: a bearer token for its own posts, a password for the clerk.

Each run makes both afresh, at every node, before the nodes start: the demo's token (`demo`) is
revoked and made again (a token is shown once, so a resumed demo has no other way to hold it), and
the clerk's password is a new random one, printed beside each node's address for whoever opens
its page. Nothing is fixed or reused from a previous run.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.branch_node.clerk import Clerk

TOKEN_NAME = "demo"


def new_password() -> str:
    """A clerk's password for this run: 16 characters a person can type from the terminal."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def prepare(node_dirs: dict[str, Path], password: str) -> dict[str, str]:
    """Set `password` for the clerk of every node and make the demo's bearer token at each; the
    tokens by node id."""

    def one(data_dir: Path) -> str:
        clerk = Clerk(data_dir)
        clerk.revoke_token(TOKEN_NAME)
        clerk.set_password(password)
        return clerk.add_token(TOKEN_NAME)

    with ThreadPoolExecutor(4) as pool:  # Argon2 (64 MiB, a tenth of a second) at each node
        return dict(zip(node_dirs, pool.map(one, node_dirs.values()), strict=True))
