"""Reference data, county → node (DESIGN §9: a node reads its own reference data): the county's
organisation tree and the members each node co-manages, as two signed documents in the JetStream
KV bucket `shared.wire.REFS_BUCKET`.

- `OrgTreeDoc` (key `<county>.orgs`): every organisation with its code, kind, Chinese name,
  parent, node and location; the same for every node of the county.
- `CoManagedDoc` (key `<county>.members.<node>`): the members the node co-manages (dual
  management: registered at another node, co-managed here) with their status. Their names are
  personal data: each is sealed to the node's current signing key (`shared.signing.seal_for`, a
  sealed box only that node opens), so nothing on NATS or in the node's cache holds one in clear.

The county signs both with its receipt key (`repair.Signed`: SHA-256 over the canonical JSON of
every field but `key_id` and `sig`); a node takes a document only if a county key it trusts
signed it, and never one older than the one it holds. A node may read only these two keys (its
NATS permissions name them) and write none.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec

from shared.bounds import check_depth
from shared.catalog.base import MemberId, OrgKind, Text
from shared.errors import FieldError, from_msgspec
from shared.ids import Slug
from shared.repair import Signed
from shared.wire import MAX_REFS_BYTES

MAX_ORGS = 5000
"""Organisations in one tree document (a county has hundreds; 5,000 stay under MAX_REFS_BYTES)."""
MAX_CO_MANAGED = 3000
"""Co-managed members in one node's document (an outstation has hundreds)."""

Box = Annotated[str, msgspec.Meta(max_length=1000, pattern=r"^[A-Za-z0-9+/=]+$")]
"""A sealed box in base64 (`seal_for`)."""
Status = Annotated[str, msgspec.Meta(pattern=r"^(out|returned|contact_lost|transferred_out)$")]
Role = Annotated[str, msgspec.Meta(pattern=r"^(outstation|host_org|cross_post)$")]


class OrgEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    org_id: Slug
    kind: OrgKind
    name: Text
    parent_id: Slug | None = None
    node_id: Slug | None = None
    host_location: Text | None = None


class OrgTreeDoc(Signed, frozen=True, kw_only=True):
    county_id: Slug
    orgs: Annotated[list[OrgEntry], msgspec.Meta(max_length=MAX_ORGS)]


class CoManaged(msgspec.Struct, frozen=True, kw_only=True):
    member_id: MemberId
    name_box: Box | None = None
    """The name sealed to the node's key; None where the county cannot open it (key not arrived,
    erased)."""
    home_branch: Slug
    status: Status
    roles: Annotated[list[Role], msgspec.Meta(max_length=3)]


class CoManagedDoc(Signed, frozen=True, kw_only=True):
    county_id: Slug
    node_id: Slug
    sealed_to: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]
    """The key id of the node key the names are sealed to."""
    members: Annotated[list[CoManaged], msgspec.Meta(max_length=MAX_CO_MANAGED)]


def encode(doc: OrgTreeDoc | CoManagedDoc) -> bytes:
    return msgspec.json.encode(doc)


D = TypeVar("D", OrgTreeDoc, CoManagedDoc)


def decode(data: bytes, kind: type[D]) -> D:
    """A document of `kind`, bounded (size, depth, every field); the signature is the caller's."""
    if len(data) > MAX_REFS_BYTES:
        raise FieldError("reference", f"larger than {MAX_REFS_BYTES:,} bytes")
    check_depth(data, "reference")
    try:
        doc: D = msgspec.json.decode(data, type=kind)
        return doc
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc, "reference") from None
