"""Progress on a terminal while engines are read: one line per host, quiet in CI and pipes."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.fleet import host_label
from auditor.model.text import visible


def progress_wanted(stream: IO[str]) -> bool:
    """Animated progress only for people: a terminal, and not CI."""
    return (
        bool(getattr(stream, "isatty", lambda: False)())
        and not os.environ.get("CI")
        and os.environ.get("TERM") != "dumb"
    )


class FleetProgress:
    """A rich progress display, one line per host; thread-safe, as hosts are scanned in parallel."""

    def __init__(self, specs: Sequence[EngineSpec], stream: IO[str]):
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._lock = threading.Lock()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            console=Console(file=stream),
            transient=False,
        )
        self._tasks = {
            spec: self._progress.add_task(escape(visible(host_label(spec))), total=None, state="connecting")
            for spec in specs
        }

    def __call__(self, spec: EngineSpec, state: str, done: int, total: int) -> None:
        with self._lock:
            task = self._tasks.get(spec)
            if task is None:
                return
            if state == "inspecting":
                self._progress.update(task, completed=done, total=total, state="inspecting")
            else:
                finished = self._progress.tasks[task].total or 1
                self._progress.update(task, completed=finished, total=finished, state=state)

    def __enter__(self) -> FleetProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


@contextmanager
def fleet_progress(
    specs: Sequence[EngineSpec], stream: IO[str] = sys.stderr
) -> Iterator[FleetProgress | None]:
    """A progress display for the engines being scanned (one line each) on a terminal;
    ``None`` otherwise (CI, pipes), so logs stay quiet."""
    if not specs or not progress_wanted(stream):
        yield None
        return
    with FleetProgress(specs, stream) as progress:
        yield progress
