"""One benchmark run from start to end: ``run_benchmark(options, client) -> BenchResult``.

Connects to the engine, plans the modes for this host, sets up their routes, runs the
interleaved schedule, and always removes what it created (also on Ctrl-C, SIGTERM and SIGHUP,
which end the run like Ctrl-C).
Failures the user must see are typed errors with their exit code; a mode that fails alone is
recorded in the result and the run goes on.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import docker
import docker.errors

from auditor import __version__
from auditor.model.bench import BenchResult, RunRecord, ToolInfo
from auditor.model.errors import AuditorError

from . import hostinfo, runner
from .environment import (
    BenchEnvironment,
    BenchError,
    CleanupReport,
    capabilities,
    cleanup_leftovers,
    new_run_id,
)
from .image import ImageError
from .modes import MODES, Mode
from .plan import Step, plan, schedule
from .results import build
from .settings import Options

STATISTICS = (
    "median of repetitions; 95% percentile-bootstrap interval (2000 resamples) when n >= 3; "
    "ratios paired by repetition; a difference is real only when its interval excludes 1.0"
)
INTERRUPTED = "bench interrupted; everything it created was removed"


class BenchFailed(AuditorError):
    """The engine cannot be reached or the run could not be set up: exit 3."""

    exit_code = 3


class BenchInterrupted(AuditorError):
    """Ctrl-C, SIGTERM or SIGHUP ended the run (after everything it created was removed): exit 130."""

    exit_code = 130


def connect() -> Any:
    """The local engine (``DOCKER_HOST`` or the socket), answering pings."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any connection problem is "engine unavailable"
        raise BenchFailed(f"cannot reach the Docker engine: {' '.join(str(exc).split())[:200]}") from None
    return client


def cleanup(client: Any) -> CleanupReport:
    """Remove what interrupted runs left behind (runs still alive keep their objects)."""
    return cleanup_leftovers(client)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def _termination_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt meanwhile, so clean-up runs as on Ctrl-C."""
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _order(steps: Sequence[Step]) -> tuple[str, ...]:
    return tuple(f"{s.mode}#{'w' if s.warmup else s.round + 1}" for s in steps)


def run_benchmark(
    opts: Options,
    client: Any = None,
    progress: runner.Progress | None = None,
    log: Callable[[str], None] | None = None,
    registry: Sequence[Mode] = MODES,
) -> BenchResult:
    """Measure every planned mode on this host; ``progress`` and ``log`` report along the way.

    Without a ``client`` the local engine is connected here, so that an interruption while
    connecting already ends the run like any other.
    """
    with _termination_interrupts():
        try:
            return _measure(opts, client if client is not None else connect(), progress, log, registry)
        except KeyboardInterrupt:
            raise BenchInterrupted(INTERRUPTED) from None
        except BenchError as exc:
            raise BenchFailed(str(exc)) from None
        except (docker.errors.DockerException, ImageError) as exc:
            raise BenchFailed(f"benchmark set-up failed: {' '.join(str(exc).split())[:300]}") from None


def _measure(
    opts: Options,
    client: Any,
    progress: runner.Progress | None,
    log: Callable[[str], None] | None,
    registry: Sequence[Mode],
) -> BenchResult:
    caps = capabilities(client)
    planned = plan(opts, caps, registry)
    runnable = [p.mode for p in planned if p.runnable]
    run_id = new_run_id()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    environment = hostinfo.collect(client)
    with BenchEnvironment(client, run_id, opts, caps, log, any(m.containers for m in runnable)) as bench:
        for mode in runnable:
            bench.set_up(mode.name, mode.setup)
        ready = [m.name for m in runnable if m.name in bench.routes]
        steps = schedule(ready, opts.repeat, opts.warmup, opts.seed)
        measured = runner.run(bench.routes, steps, opts, progress)
        environment = replace(environment, mtu=environment.mtu + bench.network_mtus())
        failures = dict(bench.failures)
    run = RunRecord(
        id=run_id,
        tool=ToolInfo("auditor", __version__),
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - t0, 1),
        quick=opts.quick,
        repeat=opts.repeat,
        warmup_rounds=opts.warmup,
        test_duration_s=opts.duration,
        omit_s=opts.omit,
        seed=opts.seed,
        order=_order(steps),
        statistics=STATISTICS,
    )
    return build(planned, measured, failures, environment, run, opts)
