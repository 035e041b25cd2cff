"""Expected operational failures of any `tongxin` command, told in one line with a hint.

An unreachable database or NATS server, a missing file, a permission refused or a key that
does not open are the operator's to fix, not the program's: the console script prints
`error: <cause> — <hint>` on stderr and exits 1 instead of a traceback. `--debug` (first
argument) or TONGXIN_DEBUG=1 lets the traceback through; any other exception still shows
its traceback, because it is a bug."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

EXIT_FAILURE = 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def explain(exc: BaseException) -> str | None:
    """The one line for an expected failure, or None when `exc` is not one (a bug)."""
    from nacl.exceptions import CryptoError
    from nats.errors import Error as NatsError
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        cause = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
        where = "--db / --db-file / TONGXIN_COUNTY_DB"
        return f"database unreachable: {cause} — check {where} and that the server runs"
    if isinstance(exc, NatsError):
        return f"NATS unreachable: {_first_line(exc)} — check --nats and that `tongxin nats` runs"
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename or _first_line(exc)} — check the path (or --data-dir)"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or _first_line(exc)} — check the file's owner and mode"
    if isinstance(exc, CryptoError):
        return f"key refused: {_first_line(exc)} — is it the right key file for this county/node?"
    return None


def debug_requested(argv: list[str]) -> bool:
    """Whether the traceback was asked for; removes a leading `--debug` from argv."""
    asked = os.environ.get("TONGXIN_DEBUG", "") not in ("", "0")
    if len(argv) > 1 and argv[1] == "--debug":
        del argv[1]
        asked = True
    return asked


def run_reporting(run: Callable[[], object], debug: bool) -> None:
    """Run the command; an expected failure becomes one line on stderr and exit status 1."""
    try:
        run()
    except Exception as exc:
        line = None if debug else explain(exc)
        if line is None:
            raise
        print(f"error: {line} (--debug for the traceback)", file=sys.stderr)
        raise SystemExit(EXIT_FAILURE) from None
