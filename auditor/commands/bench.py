"""``auditor bench``: measure what each Docker network mode costs on this host.

Exit codes: 0 every runnable mode measured, 2 usage error, 3 engine unavailable or a mode
failed, 130 interrupted (everything created was removed first).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from auditor.commands.common import fail, user_errors, write_outputs
from auditor.model import exit_codes

if TYPE_CHECKING:
    from rich.progress import Progress

    from auditor.benchmarks.environment import CleanupReport
    from auditor.benchmarks.plan import Step
    from auditor.benchmarks.runner import Progress as ProgressCallback
    from auditor.model.bench import BenchResult


def _log(message: str) -> None:
    click.echo(f"[bench] {message}", err=True)


def _plain_progress() -> tuple[ProgressCallback, None]:
    def show(done: int, total: int, step: Step, eta: float | None) -> None:
        if done >= total:
            click.echo(f"[bench] {total}/{total} measurements done", err=True)
            return
        phase = "warm-up" if step.warmup else f"repetition {step.round + 1}"
        left = f", about {eta:.0f}s left" if eta is not None else ""
        click.echo(f"[bench] {done + 1}/{total} {step.mode} ({phase}){left}", err=True)

    return show, None


def _rich_progress() -> tuple[ProgressCallback, Progress]:
    """A transient bar, started by the first measurement (set-up messages print before it)."""
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[left]}"),
        transient=True,
    )
    task = bar.add_task("bench", total=1, left="")

    def show(done: int, total: int, step: Step, eta: float | None) -> None:
        bar.start()
        phase = "warm-up" if step.warmup else f"repetition {step.round + 1}"
        left = f"about {eta:.0f}s left" if eta is not None and done < total else ""
        bar.update(task, total=total, completed=done, description=f"{step.mode} ({phase})", left=left)

    return show, bar


def _interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true", "yes")


@click.command("bench")
@click.option("--modes", metavar="LIST", help="Comma-separated modes (default: all). Baselines always run.")
@click.option("--duration", type=float, metavar="S", help="Seconds per test (default 5; --quick: 1).")
@click.option(
    "--repeat", type=int, metavar="N", help="Measured repetitions per mode (default 5; --quick: 3)."
)
@click.option("--warmup", type=int, default=1, show_default=True, help="Warm-up rounds, not recorded.")
@click.option(
    "--quick", is_flag=True, help="Short tests and few repetitions: the whole matrix in a few minutes."
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE",
    help="Write results to FILE (.json or .html; repeatable).",
)
@click.option(
    "--image",
    metavar="IMG",
    help="Use this local image (must have sh, iperf3, sockperf) instead of building one.",
)
@click.option(
    "--cleanup", is_flag=True, help="Only remove what interrupted benchmark runs left behind, then exit."
)
@click.option(
    "--udp", is_flag=True, help="Also measure UDP loss and jitter at a fixed rate and datagram size."
)
@click.option("--udp-rate", default="500M", show_default=True, help="UDP target rate (iperf3 -b).")
@click.option(
    "--seed", type=int, help="Seed of the shuffled order (default: random; recorded in the result)."
)
@click.option("--macvlan-parent", metavar="IFACE", help="Enable the macvlan mode on this parent interface.")
@click.option(
    "--overlay", is_flag=True, help="Enable the overlay mode (the engine must already be a swarm manager)."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary table.")
def bench_command(outputs: tuple[str, ...], cleanup: bool, quiet: bool, **choices: Any) -> None:
    """Measure throughput, latency and connection rate of each Docker network mode, side by side."""
    from auditor.benchmarks import plan, session
    from auditor.reports.formats import BENCH, registry

    with user_errors():
        if cleanup:
            click.echo(_cleanup_text(session.cleanup(session.connect())))
            return
        opts = plan.options(**choices)
        formats = registry()
        planned_outputs = formats.plan(outputs, BENCH)
        progress: ProgressCallback | None = None
        bar: Progress | None = None
        if not quiet:
            progress, bar = _rich_progress() if _interactive() else _plain_progress()
        log = None if quiet else _log
        try:
            result = session.run_benchmark(opts, progress=progress, log=log)
        except session.BenchInterrupted as exc:
            click.echo(f"auditor: {exc}", err=True)
            sys.exit(exc.exit_code)
        finally:
            if bar is not None:
                bar.stop()
        write_outputs(formats, planned_outputs, BENCH, result)
        if not quiet:
            from auditor.reports.bench_table import render_table

            render_table(result, sys.stdout)
        _exit(result)


def _exit(result: BenchResult) -> None:
    """Exit 3 when nothing could be measured or a runnable mode failed (outputs are written first)."""
    if not any(m.measured for m in result.modes):
        reasons = sorted({m.skipped_reason or m.error or "" for m in result.modes})
        fail(f"nothing could be measured: {'; '.join(reasons)}", exit_codes.INCOMPLETE)
    failed = [m.mode for m in result.modes if m.status == "failed"]
    if failed:
        click.echo(f"auditor: error: mode(s) failed: {', '.join(failed)}", err=True)
        sys.exit(exit_codes.INCOMPLETE)


def _cleanup_text(report: CleanupReport) -> str:
    kept = f"; kept {len(report.kept_alive_runs)} running benchmark(s)" if report.kept_alive_runs else ""
    return (
        f"removed {report.containers} container(s), {report.networks} network(s), "
        f"{report.images} image(s), {report.processes} process(es) left by interrupted runs{kept}"
    )
