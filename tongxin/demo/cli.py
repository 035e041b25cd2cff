"""The terminal side of `tongxin demo`: progress bars, messages, Ctrl-C and SIGTERM."""

from __future__ import annotations

import signal
from types import FrameType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tongxin.demo.run import Demo, Settings
from tongxin.demo.supervisor import DemoError
from tongxin.natsd import NatsServerError


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_demo(settings: Settings) -> int:
    """Run until Ctrl-C/SIGTERM (exit 0) or a failure (exit 1, with what failed)."""
    console = Console(soft_wrap=True)
    signal.signal(signal.SIGTERM, _interrupt)
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def progress(what: str, done: int, total: int) -> None:
        if what not in tasks:
            bars.start()
            tasks[what] = bars.add_task(what, total=total)
        bars.update(tasks[what], completed=done, total=total)
        if all(bars.tasks[t].finished for t in tasks.values()):
            bars.stop()

    def say(message: str) -> None:
        (bars.console if bars.live.is_started else console).print(message, highlight=False)

    try:
        Demo(settings, say, progress).run()
    except KeyboardInterrupt:
        return 0
    except (DemoError, NatsServerError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 1
    finally:
        bars.stop()
    return 0
