"""The county's own Ed25519 key, which signs its receipts."""

from __future__ import annotations

import os
from pathlib import Path

from shared.signing import Signer

DEFAULT_COUNTY_KEY = Path("tongxin-county.key")


def load_or_create(path: Path) -> Signer:
    """The key at `path`, created (mode 0600) on first use."""
    try:
        return Signer.load(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        signer = Signer.generate()
        try:
            signer.save(path)
        except FileExistsError:  # another process created it first
            return Signer.load(path)
        os.chmod(path, 0o600)
        return signer
