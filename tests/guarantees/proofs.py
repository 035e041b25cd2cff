"""The tests that prove each guarantee of DESIGN §3, by pytest node id, and a check that they exist.

Each `test_gN_*.py` beside this module names the tests that would catch the loss of guarantee N
(kill -9, broken links, redelivery, reordering, hostile input, replay). They stay where their
fixtures live; `pytest --guarantee N` runs exactly the proofs of guarantee N.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@cache
def _tests_in(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def missing(proofs: tuple[str, ...]) -> list[str]:
    """The node ids among `proofs` whose file or test function does not exist (a guarantee with no
    proof at all is missing everything)."""
    if not proofs:
        return ["(no proof at all)"]
    gone = []
    for proof in proofs:
        path, _, name = proof.partition("::")
        if not (ROOT / path).is_file() or name not in _tests_in(path):
            gone.append(proof)
    return gone


def proves(proofs: tuple[str, ...], nodeid: str) -> bool:
    """Whether a collected test (any parametrisation) is one of `proofs`."""
    return nodeid.split("[", 1)[0] in proofs


def proofs_of(number: int) -> tuple[str, ...]:
    """The PROOFS of guarantee `number` (its `test_g<number>_*.py`)."""
    import importlib

    (path,) = (ROOT / "tests" / "guarantees").glob(f"test_g{number}_*.py")
    module = importlib.import_module(f"tests.guarantees.{path.stem}")
    found: tuple[str, ...] = module.PROOFS
    return found
