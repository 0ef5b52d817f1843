"""Runs the measuring tools for one mode and one repetition, recording CPU of every party.

Clients are the host's own binaries, run in the client's network namespace with ``nsenter``
(or on the host); servers run inside the containers. CPU is read from /proc for the server and
the userland proxy and from the kernel's child rusage for the client, as percent of one core.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import procfs
from .environment import Route, die_with_parent, in_netns, marked_env
from .parsers import ToolOutputError, parse_connrate, parse_iperf3, parse_sockperf
from .plan import Step
from .settings import Options

KINDS = ("throughput", "reverse", "latency", "connections")
SLACK_S = 15.0  # a tool gets this much longer than its test before it is killed


@dataclass
class Sample:
    """One measurement: its value (None when it failed), details, CPU, and the error."""

    kind: str
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)
    cpu: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None


def _client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(
    route: Route, argv: list[str], timeout: float, server_pid: int | None, proxy_key: str | None
) -> tuple[str, str, dict[str, float | None]]:
    """Run one client; returns stdout, stderr and CPU use (% of one core) of client/server/proxy."""
    proxy_pid = None
    if proxy_key and proxy_key in route.published:
        host_ip, port = route.published[proxy_key]
        proxy_pid = procfs.docker_proxy_pid(host_ip, port)
    server_before = procfs.cpu_seconds(server_pid) if server_pid else None
    proxy_before = procfs.cpu_seconds(proxy_pid) if proxy_pid else None
    client_before = _client_cpu_seconds()
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            in_netns(route.netns, argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=marked_env(),
            preexec_fn=die_with_parent,
            check=False,
        )  # noqa: PLW1509
        stdout, stderr = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        stdout = _text(exc.stdout)
        stderr = _text(exc.stderr) + f"\n(killed after {timeout:.0f}s)"
    wall = max(time.perf_counter() - start, 1e-9)
    cpu: dict[str, float | None] = {"client": 100.0 * (_client_cpu_seconds() - client_before) / wall}
    server_after = procfs.cpu_seconds(server_pid) if server_pid else None
    cpu["server"] = (
        100.0 * (server_after - server_before) / wall
        if server_before is not None and server_after is not None
        else None
    )
    proxy_after = procfs.cpu_seconds(proxy_pid) if proxy_pid else None
    cpu["proxy"] = (
        100.0 * (proxy_after - proxy_before) / wall
        if proxy_before is not None and proxy_after is not None
        else None
    )
    return stdout, stderr, cpu


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def throughput(route: Route, duration: float, omit: int, reverse: bool = False) -> Sample:
    argv = [
        "iperf3",
        "-c",
        route.address,
        "-p",
        str(route.iperf_port),
        "-t",
        _secs(duration),
        "-O",
        str(omit),
        "-J",
    ]
    if reverse:
        argv.append("-R")
    out, err, cpu = _run(route, argv, duration + omit + SLACK_S, route.servers.iperf3, "iperf3")
    kind = "reverse" if reverse else "throughput"
    try:
        result = parse_iperf3(out)
    except ToolOutputError as exc:
        return Sample(kind, None, cpu=cpu, error=_error(exc, err))
    details = {
        "retransmits": result.retransmits,
        "smoothed_rtt_under_load_us": result.mean_rtt_us,
        "congestion": result.congestion,
        "iperf3_cpu_local_pct": result.cpu_local_pct,
        "iperf3_cpu_remote_pct": result.cpu_remote_pct,
    }
    return Sample(kind, result.throughput_bps, details, cpu)


def udp(route: Route, duration: float, rate: str, size: int) -> Sample:
    argv = [
        "iperf3",
        "-c",
        route.address,
        "-p",
        str(route.iperf_port),
        "-u",
        "-b",
        rate,
        "-l",
        str(size),
        "-t",
        _secs(duration),
        "-J",
    ]
    out, err, cpu = _run(route, argv, duration + SLACK_S, route.servers.iperf3, None)
    try:
        result = parse_iperf3(out)
    except ToolOutputError as exc:
        return Sample("udp", None, cpu=cpu, error=_error(exc, err))
    return Sample(
        "udp",
        result.udp_lost_percent,
        {"jitter_ms": result.udp_jitter_ms, "packets": result.udp_packets, "sent_bps": result.sent_bps},
        cpu,
    )


def latency(route: Route, duration: float) -> Sample:
    argv = [
        "sockperf",
        "ping-pong",
        "--tcp",
        "-i",
        route.address,
        "-p",
        str(route.sockperf_port),
        "-t",
        str(max(1, round(duration))),
        "-m",
        "64",
        "--full-rtt",
    ]
    out, err, cpu = _run(route, argv, duration + SLACK_S, route.servers.sockperf, "sockperf")
    try:
        result = parse_sockperf(out + "\n" + err)
    except ToolOutputError as exc:
        return Sample("latency", None, cpu=cpu, error=_error(exc, err))
    details = {
        "p50": result.p50,
        "p90": result.p90,
        "p99": result.p99,
        "p999": result.p999,
        "observations": result.observations,
    }
    return Sample("latency", result.p50, details, cpu)


def connections(route: Route, duration: float) -> Sample:
    argv = [
        sys.executable,
        "-m",
        "auditor.benchmarks.connrate",
        "client",
        "--host",
        route.address,
        "--port",
        str(route.conn_port),
        "--seconds",
        _secs(duration),
    ]
    out, err, cpu = _run(route, argv, duration + SLACK_S, route.servers.connrate, "connrate")
    try:
        result = parse_connrate(out)
    except ToolOutputError as exc:
        return Sample("connections", None, cpu=cpu, error=_error(exc, err))
    return Sample("connections", result.per_second, {"errors": result.errors}, cpu)


def _secs(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _error(exc: ToolOutputError, stderr: str) -> str:
    extra = " ".join(stderr.split())[-200:]
    return f"{exc}" + (f" [{extra}]" if extra and extra not in str(exc) else "")


def measure_step(route: Route, opts: Options, warmup: bool) -> list[Sample]:
    """All measurements of one repetition of one mode (a short throughput test when warming up)."""
    if warmup:
        return [throughput(route, min(1.0, opts.duration), 0), latency(route, 1.0)]
    samples = [
        throughput(route, opts.duration, opts.omit),
        throughput(route, opts.duration, opts.omit, reverse=True),
        latency(route, opts.duration),
        connections(route, opts.duration),
    ]
    if opts.udp:
        samples.append(udp(route, opts.duration, opts.udp_rate, opts.udp_size))
    return samples


Results = dict[str, dict[str, list[Sample | None]]]
Progress = Callable[[int, int, Step, float | None], None]


def run(
    routes: dict[str, Route], steps: list[Step], opts: Options, progress: Progress | None = None
) -> Results:
    """Run the schedule; samples land at their round index so ratios can be paired by round."""
    results: Results = {mode: {kind: [None] * opts.repeat for kind in (*KINDS, "udp")} for mode in routes}
    todo = [s for s in steps if s.mode in routes]
    started = time.monotonic()
    expected = [s.expected_seconds(opts) for s in todo]
    for index, step in enumerate(todo):
        if progress:
            elapsed = time.monotonic() - started
            done = sum(expected[:index])
            scale = elapsed / done if done > 0 else 1.0
            progress(index, len(todo), step, scale * sum(expected[index:]))
        samples = measure_step(routes[step.mode], opts, step.warmup)
        if step.warmup:
            continue
        for sample in samples:
            results[step.mode][sample.kind][step.round] = sample
    if progress and todo:
        progress(len(todo), len(todo), todo[-1], 0.0)
    return results
