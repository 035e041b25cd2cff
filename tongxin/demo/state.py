"""What a demo data dir remembers between runs (demo.json, 0600): the seed, size and end of its
history, how many members the live simulation has registered. (A demo.json made before member ids
were random also holds a county secret: it is dropped when read, and no longer written.) The data
dir is 0700: it holds the county's database and key and the nodes' dirs."""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from shared.private_files import PRIVATE_FILE, private_dir, write_private
from tongxin.demo.supervisor import DemoError

STATE_FILE = "demo.json"
LOCK_FILE = "demo.lock"


def lock(data_dir: Path) -> TextIO:
    """Hold the data dir for this demo (released when the process ends, however it ends)."""
    private_dir(data_dir)
    fd = os.open(data_dir / LOCK_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    handle = os.fdopen(fd, "w")
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
            os.chmod(path, PRIVATE_FILE)  # as an older demo may have left it: 0644
            saved = json.loads(path.read_text())
            saved.pop("county_secret", None)  # a demo made before member ids were random
            state = cls(**saved)
            if (state.seed, state.members) != (seed, members):
                raise DemoError(
                    f"{data_dir} holds a demo made with --seed {state.seed} --members {state.members}; "
                    "run with those, or choose another --data-dir"
                )
            return state
        private_dir(data_dir)
        end = date.fromordinal(today.toordinal() - 1).isoformat()
        state = cls(seed, members, end)
        state.save(data_dir)
        return state

    def save(self, data_dir: Path) -> None:
        write_private(data_dir / STATE_FILE, (json.dumps(asdict(self), indent=2) + "\n").encode())
