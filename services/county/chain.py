"""Where a seq stands against its node's chain: the gap-free rule of DESIGN §3.3, written once.

A node's seqs run 1, 2, 3 … without a gap. Against the head of what the county holds of a
node's chain (its last seq, 0 before the first), a seq is either at or below it (a duplicate:
archived already), the very next one (it must link to the head), or beyond a gap (held, not
projected, until the missing seqs arrive). Ingest places each envelope by this rule, and the
`known_at` replay cuts a node's chain where it held the rest at that time. Pure: it imports
nothing of the county.
"""

from __future__ import annotations

import enum


class Standing(enum.Enum):
    DUPLICATE = "duplicate"
    """At or below the head: archived already (with another hash, a conflicting duplicate)."""
    NEXT = "next"
    """The head's successor: it must link to the head, and is archived."""
    BEYOND_GAP = "beyond_gap"
    """Past a missing seq: held until the gap fills."""


def next_seq(head: int) -> int:
    """The only seq that may follow `head` (0: nothing held yet, so 1)."""
    return head + 1


def standing(seq: int, head: int) -> Standing:
    """Where `seq` stands against a chain whose last seq is `head`."""
    if seq <= head:
        return Standing.DUPLICATE
    if seq == next_seq(head):
        return Standing.NEXT
    return Standing.BEYOND_GAP
