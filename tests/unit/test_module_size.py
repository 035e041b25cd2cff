"""Small modules (STYLE.md): no module of the services over 300 lines, each opening with what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 300


def test_no_service_module_is_over_300_lines_and_each_says_what_it_is_for() -> None:
    long, silent = [], []
    for path in sorted((ROOT / "services").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LIMIT:
            long.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
        if text.strip() and ast.get_docstring(ast.parse(text)) is None:
            silent.append(str(path.relative_to(ROOT)))
    assert long == [], f"over {LIMIT} lines: {long}"
    assert silent == [], f"no opening docstring: {silent}"
