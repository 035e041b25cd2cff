"""A node's identity and settings, kept in its data dir beside its key and its log."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from shared.errors import FieldError
from shared.nats_identity import SEED_FILE, NatsIdentity, new_seed, node_inbox, public_key, write_seed
from shared.private_files import Tightened, private_dir, private_file, tighten, write_private
from shared.signing import Signer
from shared.wire import DEFAULT_NATS_URL

log = logging.getLogger("tongxin.node")

CONFIG_FILE = "node.json"
KEY_FILE = "node.key"
SECRET_FILE = "county.secret"
"""What nodes made before random member ids hold: left alone, never read."""
LOG_FILE = "log.db"
KEYS_DIR = "keys"


class NodeConfig(msgspec.Struct, frozen=True, kw_only=True):
    node_id: str
    county_id: str
    nats_url: str = DEFAULT_NATS_URL
    county_public_key: str | None = None
    nats_ca: str | None = None
    """The CA file that signed the NATS server's TLS certificate, when it is not a public one."""
    """The county's receipt key (hex), to verify its receipts; optional."""


class NodeNotFoundError(FileNotFoundError):
    pass


class NodeExistsError(FileExistsError):
    pass


class NodeDir:
    """The files of one node: node.json, node.key, nats.seed, log.db (and its -wal, -shm),
    personal.db (`keystore`), clerk.json, county-keys.json, keys/ — the directory 0700, every file
    0600 (`shared.private_files`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def log_path(self) -> Path:
        return self.path / LOG_FILE

    def exists(self) -> bool:
        return (self.path / CONFIG_FILE).exists()

    def create(self, config: NodeConfig) -> Signer:
        """Write a new node's files; refuses to touch an existing node."""
        if self.exists() or (self.path / KEY_FILE).exists():
            raise NodeExistsError(f"a node already lives in {self.path}; refusing to overwrite it")
        private_dir(self.path)
        signer = Signer.generate()
        signer.save(self.path / KEY_FILE)
        write_seed(self.path / SEED_FILE, new_seed())
        write_private(self.path / CONFIG_FILE, msgspec.json.format(msgspec.json.encode(config)) + b"\n")
        private_file(self.log_path)  # before SQLite makes it (and its -wal, -shm) by the umask
        return signer

    def make_private(self) -> list[Tightened]:
        """Narrow what an older version left readable by others (the dir 0700, its files 0600),
        saying in one log line what was changed; make log.db (0600) if it is not there yet."""
        changed = tighten(self.path)
        if changed:
            log.warning(
                "data dir %s: made %d file(s) private to their owner (readable by others, made by "
                "an older version): %s",
                self.path,
                len(changed),
                ", ".join(str(c) for c in changed),
                extra={"data_dir": str(self.path), "tightened": len(changed)},
            )
        private_file(self.log_path)
        return changed

    def config(self) -> NodeConfig:
        try:
            data = (self.path / CONFIG_FILE).read_bytes()
        except FileNotFoundError:
            raise NodeNotFoundError(
                f"no node in {self.path}: run `tongxin node init` first (or pass --data-dir)"
            ) from None
        try:
            return msgspec.json.decode(data, type=NodeConfig)
        except msgspec.ValidationError as exc:
            raise FieldError(CONFIG_FILE, str(exc)) from None

    def signer(self) -> Signer:
        """The node's first key (the one enrolled with the county)."""
        return Signer.load(self.path / KEY_FILE)

    def signer_for(self, key_id: str) -> Signer:
        """Any key this node has held: the first, or one added by a rotation."""
        first = self.signer()
        if key_id == first.key_id:
            return first
        try:
            return Signer.load(self.path / KEYS_DIR / f"{key_id}.key")
        except FileNotFoundError:
            raise FieldError("key_id", f"this node holds no key {key_id}") from None

    def add_key(self) -> Signer:
        """A new key for a rotation, saved (mode 0600) under keys/."""
        private_dir(self.path / KEYS_DIR)
        signer = Signer.generate()
        signer.save(self.path / KEYS_DIR / f"{signer.key_id}.key")
        return signer

    def nats_identity(self) -> NatsIdentity:
        """How this node connects: its own nkey (anonymous for a node made before it had one)
        and its own inbox, the only one its permissions let it read."""
        config = self.config()
        ca = None if config.nats_ca is None else Path(config.nats_ca)
        return NatsIdentity.from_file(self.path / SEED_FILE, node_inbox(config.node_id), ca)

    def ensure_nats_key(self) -> str:
        """The node's NATS key, its seed made now if the node predates NATS identities."""
        if not (self.path / SEED_FILE).exists():
            write_seed(self.path / SEED_FILE, new_seed())
        key = self.nats_key()
        assert key is not None
        return key

    def nats_key(self) -> str | None:
        """The public half of the node's NATS identity (`U…`), for enrolment."""
        seed = self.path / SEED_FILE
        return public_key(seed.read_text()) if seed.exists() else None
