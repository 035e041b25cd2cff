"""What a demo data dir remembers between runs (demo.json): the seed, size and end of its
history, how many members the live simulation has registered. (A demo.json made before member
ids were random also holds a county secret: it is dropped when read, and no longer written.)"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from tongxin.demo.supervisor import DemoError

STATE_FILE = "demo.json"
LOCK_FILE = "demo.lock"


def lock(data_dir: Path) -> TextIO:
    """Hold the data dir for this demo (released when the process ends, however it ends)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_FILE, "w")  # noqa: SIM115 - held for the life of the demo
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DemoError(
            f"another tongxin demo is running in {data_dir}; stop it or choose another --data-dir"
        ) from None
    return handle


@dataclass
class DemoState:
    seed: int
    members: int
    end: str
    """Last day of the simulated history (yesterday when the data dir was made)."""
    live_registered: int = 0

    @classmethod
    def open(cls, data_dir: Path, seed: int, members: int, today: date) -> DemoState:
        path = data_dir / STATE_FILE
        if path.exists():
            saved = json.loads(path.read_text())
            saved.pop("county_secret", None)  # a demo made before member ids were random
            state = cls(**saved)
            if (state.seed, state.members) != (seed, members):
                raise DemoError(
                    f"{data_dir} holds a demo made with --seed {state.seed} --members {state.members}; "
                    "run with those, or choose another --data-dir"
                )
            return state
        data_dir.mkdir(parents=True, exist_ok=True)
        end = date.fromordinal(today.toordinal() - 1).isoformat()
        state = cls(seed, members, end)
        state.save(data_dir)
        return state

    def save(self, data_dir: Path) -> None:
        tmp = data_dir / (STATE_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(data_dir / STATE_FILE)
