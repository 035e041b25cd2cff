"""Certificates from a private CA made in the test (trustme), written as PEM files: the `pki`
fixture (tests/conftest.py) for servers on loopback, `issue` for another CA or another certificate
of one (an expired one, its renewal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme


def issue(
    directory: Path, *names: str, ca: trustme.CA | None = None, expired: bool = False
) -> tuple[Path, Path, Path]:
    """A server certificate for `names` (127.0.0.1 and localhost by default) that `ca` (a new CA
    if none) signs, expired since yesterday if `expired`, in `directory`: (CA file, certificate
    file, key file)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = ca or trustme.CA()
    now = datetime.now(UTC)
    identities = names or ("127.0.0.1", "localhost")
    if expired:
        cert = ca.issue_cert(
            *identities, not_before=now - timedelta(days=2), not_after=now - timedelta(days=1)
        )
    else:
        cert = ca.issue_cert(*identities)
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server-key.pem",
    )
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return ca_file, cert_file, key_file
