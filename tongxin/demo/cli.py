"""The terminal side of `tongxin demo`: progress, messages, Ctrl-C and SIGTERM."""

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


class Reporter:
    """Progress bars on a terminal; elsewhere (a log, a test) one line when a step completes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}

    def say(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def progress(self, what: str, done: int, total: int) -> None:
        if not self.console.is_terminal:
            if done >= total and what not in self.tasks:
                self.tasks[what] = TaskID(0)
                self.say(f"{what}: {done}/{total}")
            return
        if what not in self.tasks:
            self.bars.start()
            self.tasks[what] = self.bars.add_task(what, total=total)
        self.bars.update(self.tasks[what], completed=done, total=total)
        if done >= total:
            self.bars.stop()


def run_demo(settings: Settings) -> int:
    """Run until Ctrl-C/SIGTERM (exit 0) or a failure (exit 1, with what failed)."""
    console = Console(soft_wrap=True)
    signal.signal(signal.SIGTERM, _interrupt)
    reporter = Reporter(console)
    try:
        Demo(settings, reporter.say, reporter.progress).run()
    except KeyboardInterrupt:
        return 0
    except (DemoError, NatsServerError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 1
    finally:
        reporter.bars.stop()
    return 0
