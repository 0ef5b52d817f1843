"""``auditor bench``: measure what each Docker network mode costs on this host.

Exit codes: 0 every runnable mode measured, 2 usage error, 3 engine unavailable or a mode
failed, 130 interrupted (everything created was removed first).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

import click

from auditor import __version__
from auditor.commands.common import fail, user_errors, write_text_atomically
from auditor.model import exit_codes
from auditor.model.errors import InputError

OUTPUT_FORMATS = {".json": "json", ".html": "html", ".htm": "html"}


def _output_format(path: str) -> str:
    for ext, fmt in OUTPUT_FORMATS.items():
        if path.lower().endswith(ext):
            return fmt
    raise InputError(f"cannot tell the format of {path!r}: bench writes .json or .html")


def _client():
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any connection problem is "engine unavailable"
        fail(f"cannot reach the Docker engine: {' '.join(str(exc).split())[:200]}", exit_codes.INCOMPLETE)
    return client


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _plain_progress():
    def show(done: int, total: int, step, eta: float | None) -> None:
        if done >= total:
            click.echo(f"[bench] {total}/{total} measurements done", err=True)
            return
        phase = "warm-up" if step.warmup else f"repetition {step.round + 1}"
        left = f", about {eta:.0f}s left" if eta is not None else ""
        click.echo(f"[bench] {done + 1}/{total} {step.mode} ({phase}){left}", err=True)

    return show, None


def _rich_progress():
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[left]}"),
        transient=True,
    )
    task = bar.add_task("bench", total=1, left="")

    def show(done: int, total: int, step, eta: float | None) -> None:
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
def bench_command(
    modes,
    duration,
    repeat,
    warmup,
    quick,
    outputs,
    image,
    cleanup,
    udp,
    udp_rate,
    seed,
    macvlan_parent,
    overlay,
    quiet,
):
    """Measure throughput, latency and connection rate of each Docker network mode, side by side."""
    from auditor.benchmarks import environment as envmod
    from auditor.benchmarks import hostinfo, plan, results, runner
    from auditor.model.bench import RunRecord, ToolInfo, to_json

    with user_errors():
        if cleanup:
            report = envmod.cleanup_leftovers(_client())
            click.echo(
                f"removed {report.containers} container(s), {report.networks} network(s), "
                f"{report.images} image(s), {report.processes} process(es) left by interrupted runs"
                + (
                    f"; kept {len(report.kept_alive_runs)} running benchmark(s)"
                    if report.kept_alive_runs
                    else ""
                )
            )
            return
        opts = plan.options(
            modes=modes,
            duration=duration,
            repeat=repeat,
            quick=quick,
            warmup=warmup,
            image=image,
            udp=udp,
            udp_rate=udp_rate,
            seed=seed,
            macvlan_parent=macvlan_parent,
            overlay=overlay,
        )
        planned_outputs = [(_output_format(p), p) for p in outputs]
        client = _client()
        caps = envmod.capabilities(client)
        planned = plan.plan(opts, caps)
        runnable = [p.mode for p in planned if p.runnable]
        run_id = envmod.new_run_id()
        started = datetime.now(UTC)
        t0 = time.monotonic()
        log = (lambda m: None) if quiet else (lambda m: click.echo(f"[bench] {m}", err=True))
        old = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
        progress, bar = (None, None) if quiet else (_rich_progress() if _interactive() else _plain_progress())
        try:
            environment = hostinfo.collect(client)
            needs_image = any(m.containers for m in runnable)
            with envmod.BenchEnvironment(client, run_id, opts, caps, log, needs_image) as env:
                for mode in runnable:
                    env.set_up(mode.name, mode.setup)
                steps = plan.schedule(
                    [m.name for m in runnable if m.name in env.routes], opts.repeat, opts.warmup, opts.seed
                )
                if bar is not None:
                    bar.start()
                try:
                    measured = runner.run(env.routes, steps, opts, progress)
                finally:
                    if bar is not None:
                        bar.stop()
                environment = replace(environment, mtu=environment.mtu + env.network_mtus())
                failures = dict(env.failures)
        except KeyboardInterrupt:
            click.echo("auditor: bench interrupted; everything it created was removed", err=True)
            sys.exit(130)
        except envmod.BenchError as exc:
            fail(str(exc), exit_codes.INCOMPLETE)
        except Exception as exc:
            import docker.errors

            from auditor.benchmarks.image import ImageError

            if isinstance(exc, docker.errors.DockerException | ImageError):
                fail(f"benchmark set-up failed: {' '.join(str(exc).split())[:300]}", exit_codes.INCOMPLETE)
            raise
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
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
            order=tuple(f"{s.mode}#{'w' if s.warmup else s.round + 1}" for s in steps),
            statistics="median of repetitions; 95% percentile-bootstrap interval (2000 resamples) when n >= 3; "
            "ratios paired by repetition; a difference is real only when its interval excludes 1.0",
        )
        result = results.build(planned, measured, failures, environment, run, opts)
        for fmt, path in planned_outputs:
            if fmt == "json":
                write_text_atomically(path, json.dumps(to_json(result), indent=2) + "\n")
            else:
                from auditor.reports.bench_html import render_string

                write_text_atomically(path, render_string(result))
        if not quiet:
            from auditor.reports.bench_table import render_table

            render_table(result, sys.stdout)
        failed = [m.mode for m in result.modes if m.status == "failed"]
        if not any(m.measured for m in result.modes):
            reasons = sorted({m.skipped_reason or m.error or "" for m in result.modes})
            fail(f"nothing could be measured: {'; '.join(reasons)}", exit_codes.INCOMPLETE)
        if failed:
            click.echo(f"auditor: error: mode(s) failed: {', '.join(failed)}", err=True)
            sys.exit(exit_codes.INCOMPLETE)
