"""Who may do what on NATS (DESIGN §9), and the server's user list that says so.

Three kinds of user, each an nkey (`shared.nats_identity`):

- **node N of county C** publishes `tongxin.C.events.N`, `tongxin.C.archive.N` (asking for its
  archived envelopes) and `$JS.API.DIRECT.GET.TONGXIN_RECEIPTS.tongxin.C.receipts.N` (reading its
  own receipt), and the direct gets of its county's organisation tree and of its own co-managed
  members in the reference bucket (`shared.reference`: `C.orgs`, `C.members.N`, nothing else of
  it); subscribes to `tongxin.C.requests.N` and its own inbox `_INBOX_N.>`;
- **the county** publishes `$JS.API.>`, `$JS.ACK.>`, `tongxin.*.receipts.*`,
  `tongxin.*.requests.*`, `$KV.TONGXIN_REFS.>` (the reference bucket's values) and replies to
  requests it received; subscribes to `_INBOX.>` and `tongxin.*.archive.*`;
- **the operator** may do everything (streams, consumers, backups).

Nothing else is granted and no one connects anonymously. A node cannot publish as another node,
read the events stream or anyone's receipts but its own, or touch the JetStream API beyond
publishing (its JetStream acks come to its inbox) and those direct gets; it cannot write the
reference bucket or read another node's entry of it.

The list lives beside the server, in its *access directory* (mode 0700): `county.seed` and
`operator.seed` (0600, made on first start), `access.json` (each allowed node's public key and
county, and when it was revoked), `users.conf` (the server's `authorization` block, rendered from
it) and `nats-server.pid` (`nats-server-<name>.pid` for each server of a cluster sharing the
directory). `allow_node` and `revoke_node` rewrite users.conf and send the server (each server)
SIGHUP: a config reload, which applies the new list to new connections and closes the revoked
user's live ones — no restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.errors import FieldError
from shared.ids import is_slug
from shared.nats_identity import is_user_key, new_seed, node_inbox, public_key, write_seed
from shared.wire import (
    RECEIPTS_STREAM,
    archive_subject,
    events_subject,
    keys_subject,
    receipts_subject,
    refs_direct_get,
    refs_members_key,
    refs_orgs_key,
    refs_subject,
    requests_subject,
)

COUNTY_SEED = "county.seed"
OPERATOR_SEED = "operator.seed"
ACCESS_FILE = "access.json"
USERS_FILE = "users.conf"
PID_FILE = "nats-server.pid"
LOCK_FILE = ".lock"
"""Held (flock) while access.json is read, changed and users.conf written: two enrolments at
once must not lose one."""


def node_permissions(county_id: str, node_id: str) -> dict[str, Any]:
    receipt = receipts_subject(county_id, node_id)
    return {
        "publish": {
            "allow": [
                events_subject(county_id, node_id),
                archive_subject(county_id, node_id),
                keys_subject(county_id, node_id),
                f"$JS.API.DIRECT.GET.{RECEIPTS_STREAM}.{receipt}",
                refs_direct_get(refs_orgs_key(county_id)),
                refs_direct_get(refs_members_key(county_id, node_id)),
            ]
        },
        "subscribe": {"allow": [requests_subject(county_id, node_id), f"{node_inbox(node_id)}.>"]},
    }


COUNTY_PERMISSIONS: dict[str, Any] = {
    "publish": {
        "allow": [
            "$JS.API.>",
            "$JS.ACK.>",
            receipts_subject("*", "*"),
            requests_subject("*", "*"),
            refs_subject(">"),
        ]
    },
    "subscribe": {"allow": ["_INBOX.>", archive_subject("*", "*"), keys_subject("*", "*")]},
    "allow_responses": True,
}


@dataclass(frozen=True)
class NodeAccess:
    county_id: str
    key: str
    allowed_at: str
    revoked_at: str | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AccessDir:
    """The access directory of one NATS server (or one copy per server of a cluster)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def users_file(self) -> Path:
        return self.path / USERS_FILE

    @property
    def pid_file(self) -> Path:
        return self.path / PID_FILE

    def pid_file_of(self, server: str) -> Path:
        """The pid file of one server of a cluster sharing this directory (`nats-server-n1.pid`)."""
        return self.path / PID_FILE.replace(".pid", f"-{server}.pid")

    def pid_files(self) -> list[Path]:
        """The pid files of every server using this directory: one, or each of a cluster's."""
        return sorted(self.path.glob(PID_FILE.replace(".pid", "*.pid")))

    def seed_path(self, who: str) -> Path:
        """`county` or `operator`: the seed file of that user."""
        return self.path / {"county": COUNTY_SEED, "operator": OPERATOR_SEED}[who]

    def ensure(self) -> None:
        """Create the directory, the county and operator seeds and the user list if missing."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        for who in ("county", "operator"):
            if not self.seed_path(who).exists():
                write_seed(self.seed_path(who), new_seed())
        if not (self.path / ACCESS_FILE).exists():
            self._save({})
        self.render()

    def nodes(self) -> dict[str, NodeAccess]:
        data = json.loads((self.path / ACCESS_FILE).read_text())
        return {n: NodeAccess(**v) for n, v in data.get("nodes", {}).items()}

    def allow_node(self, county_id: str, node_id: str, key: str) -> NodeAccess:
        """Let node `node_id` of `county_id` connect with NATS public key `key` (again after a
        revocation, with a new key only); reloads the server."""
        if not is_slug(node_id):
            raise FieldError("node_id", "must be a slug such as `dongguan`")
        if not is_slug(county_id):
            raise FieldError("county_id", "must be a slug such as `jx`")
        if not is_user_key(key):
            raise FieldError("nats_key", "must be an nkey user public key (U…, 56 characters)")
        with self._locked():
            return self._allow(county_id, node_id, key)

    def _allow(self, county_id: str, node_id: str, key: str) -> NodeAccess:
        nodes = self.nodes()
        for other, access in nodes.items():
            if access.key == key and other != node_id:
                raise FieldError("nats_key", f"this NATS key belongs to node {other}")
        old = nodes.get(node_id)
        if old is not None and old.revoked_at is not None and old.key == key:
            raise FieldError("nats_key", f"node {node_id} was revoked with this key; give it a new one")
        access = NodeAccess(county_id, key, _now())
        nodes[node_id] = access
        self._save(nodes)
        self.apply()
        return access

    def revoke_node(self, node_id: str) -> NodeAccess:
        """Refuse node `node_id` from now on, live connections included; reloads the server."""
        with self._locked():
            return self._revoke(node_id)

    def _revoke(self, node_id: str) -> NodeAccess:
        nodes = self.nodes()
        old = nodes.get(node_id)
        if old is None:
            raise FieldError("node_id", f"no NATS access for node {node_id}")
        revoked = NodeAccess(old.county_id, old.key, old.allowed_at, old.revoked_at or _now())
        nodes[node_id] = revoked
        self._save(nodes)
        self.apply()
        return revoked

    def render(self) -> None:
        """Write users.conf from the seeds and the node list (0600)."""
        users = [
            {"nkey": public_key(self.seed_path("operator").read_text())},
            {"nkey": public_key(self.seed_path("county").read_text()), "permissions": COUNTY_PERMISSIONS},
        ]
        for node_id, access in sorted(self.nodes().items()):
            if access.revoked_at is None:
                users.append({"nkey": access.key, "permissions": node_permissions(access.county_id, node_id)})
        text = "# written by Tongxin from access.json; edits are overwritten\n"
        text += "authorization: " + json.dumps({"users": users}, indent=2) + "\n"
        tmp = self.users_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        tmp.replace(self.users_file)

    def apply(self) -> bool:
        """Render and ask the running server(s) (their pid files) to reload; False if none runs here."""
        self.render()
        return self._signal(signal.SIGHUP)

    def running(self) -> bool:
        """Whether a server of this directory's pid files is running."""
        return self._signal(0)

    def _signal(self, sig: int) -> bool:
        reached = False
        for pid_file in self.pid_files():
            try:
                os.kill(int(pid_file.read_text().strip()), sig)
            except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
                continue
            reached = True
        return reached

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _save(self, nodes: dict[str, NodeAccess]) -> None:
        data = {"nodes": {n: a.__dict__ for n, a in sorted(nodes.items())}}
        tmp = self.path / (ACCESS_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        tmp.replace(self.path / ACCESS_FILE)
