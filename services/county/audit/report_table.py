"""How `tongxin audit verify` prints its report: a table of nodes, the notes, each fault and the
verdict; or the report as one JSON object."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from services.county.audit.report import Report
from shared.cli_tables import print_table


def print_report(report: Report, as_json: bool, out: Console) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
        return
    table = Table("node", "envelopes", "head seq", "head hash", "keys", "receipts", "faults")
    for s in sorted(report.nodes.values(), key=lambda s: s.node_id):
        table.add_row(
            s.node_id, str(s.checked), str(s.head_seq), s.head_hash[:16] + "…", str(len(s.keys)),
            str(s.receipts), str(s.faults),
        )  # fmt: skip
    print_table(out, table)
    for note in report.notes:
        out.print(f"note: {note}", markup=False)
    for fault in report.faults:
        out.print(str(fault), markup=False)
    verdict = "everything verifies" if report.ok else f"{len(report.faults)} fault(s)"
    out.print(f"checked {report.checked} envelope(s) of {len(report.nodes)} node(s): {verdict}", markup=False)
