"""The county's signature on an export's manifest (docs/audit.md §3.5): `manifest.sig` beside
`manifest.json`, an Ed25519 signature by the county key over the SHA-256 of manifest.json's
exact bytes.

Detached and over the bytes, not over a canonical re-encoding: what the county signed is
byte for byte what the auditor reads, so no JSON library's view of the manifest (repeated keys,
number precision, escapes, key order) stands between the signature and the text, and the check
needs only `sha256sum` and any Ed25519 tool before anything is parsed.
"""

from __future__ import annotations

import hashlib
import json

from services.county.audit.strict_json import strict_loads
from shared.county_key import CountyKeys
from shared.signing import Signer, Verifier

SIGNATURE = "manifest.sig"
FIELDS = ("key_id", "manifest_sha256", "sig")


def sign_manifest(signer: Signer, manifest: bytes) -> bytes:
    """manifest.sig for these manifest.json bytes: the key's id, their SHA-256, the signature."""
    digest = hashlib.sha256(manifest).digest()
    body = {"key_id": signer.key_id, "manifest_sha256": digest.hex(), "sig": signer.sign(digest).hex()}
    return json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"


def signature_problem(
    signature: bytes | None, manifest: bytes, county_key: Verifier | CountyKeys | None
) -> str | None:
    """Why manifest.sig does not prove that the county key (or one it was handed over from or
    to, in a `CountyKeys`) signed these manifest bytes, or None."""
    if signature is None:
        return f"{SIGNATURE} is missing: the manifest is not signed by the county"
    if county_key is None:
        return f"{SIGNATURE} not checked: no county key (give --county-key or --county-public-key)"
    try:
        value = strict_loads(signature)
        key_id, sha256, sig = (value[f] for f in FIELDS)
        raw = bytes.fromhex(sig)
        if len(raw) != 64:
            raise ValueError(f"a signature is 64 bytes, not {len(raw)}")
    except (ValueError, TypeError, KeyError) as exc:
        return f"{SIGNATURE} is malformed ({exc})"
    digest = hashlib.sha256(manifest).digest()
    if isinstance(county_key, CountyKeys):
        found = county_key.get(key_id)
        if found is None:
            return f"{SIGNATURE} is signed by key {key_id}, not by the county key {county_key.key_id}"
        county_key = found
    if key_id != county_key.key_id:
        return f"{SIGNATURE} is signed by key {key_id}, not by the county key {county_key.key_id}"
    if sha256 != digest.hex():
        return f"manifest.json was changed after it was signed (its SHA-256 is not the one {SIGNATURE} names)"
    if not county_key.verify(digest, raw):
        return f"{SIGNATURE} does not verify under the county key {county_key.key_id}"
    return None
