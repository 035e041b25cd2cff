"""County settings from options or environment (TONGXIN_COUNTY_*), with embedded defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.county.db.engine import DEFAULT_DB_URL
from services.county.keys import DEFAULT_COUNTY_KEY
from services.county.personal.master import default_path
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.wire import DEFAULT_NATS_URL


@dataclass(frozen=True)
class CountySettings:
    county_id: str
    db_url: str = DEFAULT_DB_URL
    nats_url: str = DEFAULT_NATS_URL
    county_key: Path = DEFAULT_COUNTY_KEY
    repair_grace: float = 15.0
    """Seconds a gap in a node's chain may stand before the county asks the node to re-send it."""
    max_clock_ahead: float = 86_400.0
    """Seconds a node's clock may run ahead of the county's before its envelopes are quarantined
    as `clock_skew` (`ingest.checks.MAX_CLOCK_AHEAD`)."""
    nats_seed: Path | None = None
    """The county's NATS user seed (`county.seed` of the server's access directory); None: connect
    anonymously, which a server with users refuses."""
    nats_ca: Path | None = None
    """The CA of the NATS server's TLS certificate, for a tls:// URL with a private CA."""
    personal_key: Path | None = None
    """The master key of members' personal data (`services/county/personal/master.py`); None:
    beside the county key file."""

    def personal_key_path(self) -> Path:
        return self.personal_key or default_path(self.county_key)

    def nats_identity(self) -> NatsIdentity:
        return NatsIdentity.from_file(self.nats_seed, ca_file=self.nats_ca) if self.nats_seed else ANONYMOUS
