"""What a demo data dir remembers between runs (demo.json): the seed, size and end of its
history, the county secret, how many members the live simulation has registered."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from tongxin.demo.supervisor import DemoError

STATE_FILE = "demo.json"


@dataclass
class DemoState:
    seed: int
    members: int
    end: str
    """Last day of the simulated history (yesterday when the data dir was made)."""
    county_secret: str
    live_registered: int = 0

    @classmethod
    def open(cls, data_dir: Path, seed: int, members: int, today: date) -> DemoState:
        path = data_dir / STATE_FILE
        if path.exists():
            state = cls(**json.loads(path.read_text()))
            if (state.seed, state.members) != (seed, members):
                raise DemoError(
                    f"{data_dir} holds a demo made with --seed {state.seed} --members {state.members}; "
                    "run with those, or choose another --data-dir"
                )
            return state
        data_dir.mkdir(parents=True, exist_ok=True)
        end = date.fromordinal(today.toordinal() - 1).isoformat()
        state = cls(seed, members, end, secrets.token_hex(32))
        state.save(data_dir)
        return state

    def save(self, data_dir: Path) -> None:
        tmp = data_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(data_dir / STATE_FILE)
