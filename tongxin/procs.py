"""Child processes that never outlive their parent."""

from __future__ import annotations

import ctypes
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1

try:  # looked up once in the parent, so that the child only makes one C call between fork and exec
    _prctl: Callable[..., int] | None = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def die_with_parent() -> None:
    """Run in the child before exec: it gets SIGTERM when its parent dies, even by SIGKILL (Linux;
    elsewhere the parent's own clean stop is all there is)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
