"""The county archive read for an audit: its nodes, key rows, receipts and envelopes in chain
order (keyset pagination, never OFFSET), and the verification of all of it — revocations and
re-enrolments (`revoked`) and the county's key handovers included."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from services.county.audit import revoked
from services.county.audit.report import COLUMNS, ChainKey, Claim, Fault, Report, Row
from services.county.audit.verify import Audit
from services.county.db import tables as t
from services.county.keys import handovers
from services.county.reenrolment import reenrolled
from shared.county_key import CountyKeys
from shared.receipt import Receipt
from shared.signing import Verifier


@dataclass(frozen=True)
class KeyRow:
    """A node_keys row: the key and the seqs the archive says it signs."""

    key_id: str
    public_key: str
    from_seq: int
    to_seq: int | None
    revoked_from: int | None = None

    @property
    def last(self) -> int | None:
        """The last seq it signs: its range, cut by a revocation."""
        if self.revoked_from is None:
            return self.to_seq
        return self.revoked_from - 1 if self.to_seq is None else min(self.to_seq, self.revoked_from - 1)

    @property
    def signs(self) -> bool:
        """Whether it signs any seq at all (a key revoked from before its first seq signs none)."""
        return self.last is None or self.last >= self.from_seq


def archive_nodes(conn: Connection) -> list[str]:
    """Every node the archive knows: enrolled, keyed, archived or acknowledged."""
    found: set[str] = set()
    for table in (t.nodes, t.node_keys, t.node_heads, t.receipts):
        found.update(conn.execute(select(table.c.node_id).distinct()).scalars())
    return sorted(found)


def key_rows(conn: Connection, nodes: Iterable[str]) -> dict[str, list[KeyRow]]:
    """Each node's node_keys rows, the first enrolled key (lowest valid_from_seq) first."""
    c = t.node_keys.c
    revoked_from = c.revoked_from_seq if revoked.present(conn) else None
    query = select(
        c.node_id,
        c.key_id,
        c.public_key,
        c.valid_from_seq,
        c.valid_to_seq,
        *([revoked_from] if revoked_from is not None else []),
    ).where(c.node_id.in_(list(nodes)))
    rows: dict[str, list[KeyRow]] = defaultdict(list)
    for r in conn.execute(query.order_by(c.node_id, c.valid_from_seq, c.valid_from, c.key_id)):
        cut = r[5] if revoked_from is not None else None
        rows[r.node_id].append(KeyRow(r.key_id, r.public_key, r.valid_from_seq, r.valid_to_seq, cut))
    return dict(rows)


def first_keys(rows: dict[str, list[KeyRow]]) -> dict[str, Verifier]:
    return {node: Verifier.from_hex(keys[0].public_key) for node, keys in rows.items() if keys}


def county_claims(conn: Connection, nodes: Iterable[str], county_id: str) -> list[Claim]:
    """The county's receipts rows as receipts (the table leaves out the county id)."""
    query = select(t.receipts).where(t.receipts.c.node_id.in_(list(nodes)))
    return [
        Claim(Receipt(county_id=county_id, **r), "county")
        for r in conn.execute(query.order_by(t.receipts.c.node_id, t.receipts.c.seq)).mappings()
    ]


def chunks(
    conn: Connection, nodes: Iterable[str], *, first: int = 1, last: int | None = None, size: int = 5000
) -> Iterator[list[Row]]:
    """Archive rows in (node, seq) order, `size` at a time: keyset pagination per node, never OFFSET."""
    a = t.archive.c
    buffer: list[Row] = []
    for node_id in nodes:
        after = first - 1
        while True:
            query = select(a.node_id, a.envelope, *(a[name] for name in COLUMNS)).where(
                a.node_id == node_id, a.seq > after
            )
            if last is not None:
                query = query.where(a.seq <= last)
            page = conn.execute(query.order_by(a.seq).limit(size)).all()
            buffer += [Row(node_id, r[2], r[1].encode(), tuple(r[2:])) for r in page]
            if len(buffer) >= size:
                yield buffer
                buffer = []
            if len(page) < size:
                break
            after = page[-1].seq
    if buffer:
        yield buffer


def archive_count(conn: Connection, nodes: list[str]) -> int:
    query = select(func.count()).select_from(t.archive).where(t.archive.c.node_id.in_(nodes))
    return int(conn.execute(query).scalar_one())


def verify_archive(
    conn: Connection,
    nodes: list[str],
    *,
    county_key: Verifier | None,
    county_id: str | None,
    node_claims: Iterable[Claim] = (),
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify the archive of `nodes`: chains, columns, key rows, county and node receipts.

    Without `county_id` (given, or named by every node receipt) the county's receipts rows
    cannot be read as receipts; without `county_key` no receipt signature is checked. Each
    omission is noted in the report. The county's key handovers lead from `county_key` to the
    keys that signed before or after it (`shared.county_key`).
    """
    rows = key_rows(conn, nodes)
    lifecycle = revoked.present(conn)
    keys: CountyKeys | None = None
    if county_key is not None:
        keys = CountyKeys([county_key], handovers(conn) if lifecycle else [])
    claims = [c for c in node_claims if c.receipt.node_id in nodes]
    named = {c.receipt.county_id for c in claims}
    county_id = county_id or (named.pop() if len(named) == 1 else None)
    notes: list[str] = []
    unread = county_id is None and conn.execute(select(t.receipts.c.seq).limit(1)).first() is not None
    if county_id is not None:
        claims += county_claims(conn, nodes, county_id)
    elif unread:
        notes.append("county receipts not checked: the county id is unknown")
    if county_key is None and claims:
        notes.append("receipt signatures not checked: no county key")
    gone = revoked.read(
        conn, nodes, {n: [(k.key_id, k.public_key) for k in ks] for n, ks in rows.items()}, keys, county_id
    )
    claims, aside, misplaced = revoked.split_claims(conn, claims, gone)
    enrolled = reenrolled(conn, nodes) if lifecycle else {}
    audit = Audit(
        first_keys(rows),
        claims=claims,
        county_key=keys,
        county_id=county_id,
        workers=workers,
        enrolled=enrolled,
    )
    if unread:
        audit.node_claims = []  # nothing to find them among
    for node in nodes:
        audit.summary(node)
    audit.run(chunks(conn, nodes), progress)
    report = audit.finish()
    for node_id, node_rows in sorted(rows.items()):
        chain = report.nodes[node_id].keys
        for seq, key in sorted(enrolled.get(node_id, {}).items()):  # re-enrolled, nothing archived since
            if seq > report.nodes[node_id].head_seq and all(k.from_seq != seq for k in chain):
                chain.append(ChainKey(key.key_id, key.public_key.hex(), seq))
        for fault in key_row_faults(node_id, chain, node_rows):
            audit.fault(fault.node_id, fault.seq, fault.reason)
    for fault in gone.faults + misplaced:
        audit.fault(fault.node_id, fault.seq, fault.reason)
    report.faults = sorted(audit.faults, key=lambda f: f.node_id)
    report.notes += notes + gone.notes + aside
    return report


def key_row_faults(node_id: str, chain: list[ChainKey], rows: list[KeyRow]) -> Iterator[Fault]:
    """Each key the chain designates has its row, with the seqs it signs; no other row exists.

    The first row is the trust anchor (the chain starts from it), so a node without archived
    envelopes is held to its first key alone.
    """
    chain = chain or [ChainKey(rows[0].key_id, rows[0].public_key, 1)]
    by_id = {r.key_id: r for r in rows}
    for i, key in enumerate(chain):
        last = chain[i + 1].from_seq - 1 if i + 1 < len(chain) else None
        row = by_id.get(key.key_id)
        if row is not None and last is None and row.revoked_from is not None:
            last = row.revoked_from - 1  # the chain's last key, revoked (and no key re-enrolled yet)
        if row is None:
            problem = f"node_keys has no row for key {key.key_id}, designated from seq {key.from_seq}"
        elif row.public_key != key.public_key:
            problem = f"node_keys row of key {key.key_id} holds another public key than the chain names"
        elif (row.from_seq, row.last) != (key.from_seq, last):
            problem = (
                f"node_keys says key {key.key_id} signs seqs {_span(row.from_seq, row.last)}, "
                f"the chain designates it for seqs {_span(key.from_seq, last)}"
            )
        else:
            continue
        yield Fault(node_id, key.from_seq, problem)
    designated = {k.key_id for k in chain}
    for row in rows:
        if row.key_id not in designated and row.signs:
            span = _span(row.from_seq, row.to_seq)
            yield Fault(
                node_id,
                row.from_seq,
                f"node_keys lists key {row.key_id} (seqs {span}), which the chain never designates",
            )


def _span(first: int, last: int | None) -> str:
    return f"{first}–{last if last is not None else '…'}"
