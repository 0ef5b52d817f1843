"""Fleets: many engines in one scan, from ``--engine`` and ``--hosts-file``.

A hosts file lists one engine per line, ``URL [NAME]``; ``#`` starts a comment. NAME, when
given, names the target in reports, history and fingerprints instead of the engine's own
host name, so a fleet's findings stay stable even if hosts are renamed.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import IO

from auditor import inputs
from auditor.collectors.engine import EngineSpec
from auditor.errors import InputError
from auditor.findings import ScanResult

_SCHEMES = ("unix://", "tcp://", "ssh://", "http://", "https://", "npipe://")


def parse_hosts_file(path: str, base: EngineSpec) -> list[EngineSpec]:
    """Read ``URL [NAME]`` lines; TLS settings and timeout come from ``base`` (the CLI)."""
    text = inputs.read_text(path, "hosts file", inputs.HOSTS_LIMIT)
    specs: list[EngineSpec] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        parts = content.split()
        if len(parts) > 2:
            raise InputError("expected `URL [NAME]`", path, number)
        url = parts[0]
        if not url.startswith(_SCHEMES):
            raise InputError(f"{url!r} is not an engine URL (unix://, tcp://, ssh://)", path, number)
        name = parts[1] if len(parts) == 2 else None
        specs.append(replace(base, url=url, name=name))
    if not specs:
        raise InputError("hosts file lists no engines", path)
    return specs


def fleet_specs(cli_specs: Sequence[EngineSpec], hosts_file: str | None, base: EngineSpec) -> tuple[EngineSpec, ...]:
    """``--engine`` entries first, then the hosts file's, without exact repeats."""
    specs = list(cli_specs)
    if hosts_file:
        specs.extend(parse_hosts_file(hosts_file, base))
    return tuple(dict.fromkeys(specs))


def host_label(spec: EngineSpec) -> str:
    return f"{spec.name} ({spec.address})" if spec.name else spec.address


def progress_wanted(stream: IO[str]) -> bool:
    """Animated progress only for people: a terminal, and not CI."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI") \
        and os.environ.get("TERM") != "dumb"


class FleetProgress:
    """A rich progress display, one line per host; thread-safe, as hosts are scanned in parallel."""

    def __init__(self, specs: Sequence[EngineSpec], stream: IO[str]):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._lock = threading.Lock()
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[state]}"),
                                  console=Console(file=stream), transient=False)
        self._tasks = {spec: self._progress.add_task(host_label(spec), total=None, state="connecting")
                       for spec in specs}

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
def fleet_progress(specs: Sequence[EngineSpec], stream: IO[str] = sys.stderr) -> Iterator[FleetProgress | None]:
    """A progress display for the engines being scanned (one line each) on a terminal;
    ``None`` otherwise (CI, pipes), so logs stay quiet."""
    if not specs or not progress_wanted(stream):
        yield None
        return
    with FleetProgress(specs, stream) as progress:
        yield progress


def host_status_lines(result: ScanResult) -> list[str]:
    """One line per engine: its status and what was found, for the end of a fleet scan."""
    lines = []
    for t in result.targets:
        if t.target.kind.value != "engine":
            continue
        where = t.target.name if t.target.name == t.target.address else f"{t.target.name} ({t.target.address})"
        if t.status == "failed":
            lines.append(f"host {where}: failed: {t.error}")
            continue
        found = sum(1 for f in result.findings if f.resource.host == t.target.name and f.status == "open")
        lines.append(f"host {where}: {t.status}, {t.containers} containers, {t.networks} networks, "
                     f"{found} open findings")
    return lines

