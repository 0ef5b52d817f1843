"""Does the harness add a cost of its own? Its host-loopback baseline vs the tools run by hand.

In one run, each test alternates (in shuffled order) between the harness's own code path for
the ``host-loopback`` mode and iperf3/sockperf started by hand against servers started by hand
on 127.0.0.1. For each metric it prints whether the by-hand median lies inside the harness's
reported 95% interval, and the by-hand/harness ratio paired by round with its interval.

    .venv/bin/python benchmarks/perf/bench_harness_overhead.py [--repeat 7] [--duration 2]

Exit status 0 when every metric agrees: its paired interval includes 1.0, or lies entirely
within +-2% (a real but negligible difference); 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import time

import docker
from auditor.benchmarks import runner
from auditor.benchmarks.environment import BenchEnvironment, new_run_id
from auditor.benchmarks.modes import MODES
from auditor.benchmarks.plan import options, plan
from auditor.benchmarks.results import build, values
from auditor.benchmarks.settings import Capabilities
from auditor.benchmarks.statistics import paired_ratio

from auditor.model.bench import Environment, RunRecord, UserlandProxy

# A paired difference whose whole interval lies within +-2% is too small to matter next to the
# run-to-run spread of any mode; it still counts as agreement (and is printed as such).
EQUIVALENCE = 0.02


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def by_hand_throughput(port: int, duration: int, omit: int, reverse: bool) -> float:
    argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(duration), "-O", str(omit), "-J"]
    out = subprocess.run(
        argv + (["-R"] if reverse else []), capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out)["end"]["sum_received"]["bits_per_second"])


def by_hand_latency(port: int, duration: int) -> dict[str, float]:
    argv = [
        "sockperf",
        "ping-pong",
        "--tcp",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-t",
        str(duration),
        "-m",
        "64",
        "--full-rtt",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    found = dict(re.findall(r"percentile\s+([0-9.]+)\s*=\s*([0-9.]+)", out))
    return {"p50": float(found["50.000"]), "p99": float(found["99.000"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--duration", type=int, default=2)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    opts = options(modes="host-loopback", duration=args.duration, repeat=args.repeat, seed=args.seed)
    rng = random.Random(args.seed)
    iperf_port, sockperf_port = free_port(), free_port()
    servers = [
        subprocess.Popen(
            ["iperf3", "-s", "-B", "127.0.0.1", "-p", str(iperf_port)], stdout=subprocess.DEVNULL
        ),
        subprocess.Popen(
            ["sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", str(sockperf_port)],
            stdout=subprocess.DEVNULL,
        ),
    ]
    time.sleep(1.0)
    hand: dict[str, list[float]] = {"throughput": [], "reverse": [], "p50": [], "p99": []}
    harness: dict[str, list] = {k: [None] * args.repeat for k in (*runner.KINDS, "udp")}
    try:
        client = docker.from_env()
        with BenchEnvironment(client, new_run_id(), opts, Capabilities(), needs_image=False) as env:
            env.set_up("host-loopback", MODES[0].setup)
            if "host-loopback" not in env.routes:
                raise SystemExit(f"host-loopback set-up failed: {env.failures['host-loopback']}")
            route = env.routes["host-loopback"]
            runner.measure_step(route, opts, warmup=True)  # both sides warm up once
            by_hand_throughput(iperf_port, 1, 0, False)
            for r in range(args.repeat):
                # alternate per test, in shuffled order, so each pair runs seconds apart
                for kind in ("throughput", "reverse", "latency"):
                    order = ["harness", "hand"]
                    rng.shuffle(order)
                    for who in order:
                        if who == "harness" and kind == "latency":
                            harness["latency"][r] = runner.latency(route, args.duration)
                        elif who == "harness":
                            harness[kind][r] = runner.throughput(
                                route, args.duration, opts.omit, kind == "reverse"
                            )
                        elif kind == "latency":
                            measured = by_hand_latency(sockperf_port, args.duration)
                            hand["p50"].append(measured["p50"])
                            hand["p99"].append(measured["p99"])
                        else:
                            hand[kind].append(
                                by_hand_throughput(iperf_port, args.duration, opts.omit, kind == "reverse")
                            )
                harness["connections"][r] = runner.connections(route, 1.0)
                print(f"round {r + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        for proc in servers:
            proc.kill()
    planned = plan(opts, Capabilities())
    environment = Environment(
        cpus=2, userland_proxy=UserlandProxy(None, None), collected=("cpus", "userland_proxy")
    )
    result = build(
        [p for p in planned if p.name == "host-loopback"],
        {"host-loopback": harness},
        {},
        environment,
        RunRecord(repeat=args.repeat),
        opts,
    )
    mode = result.measured("host-loopback")
    assert mode is not None and mode.latency_us is not None and mode.latency_detail is not None
    forward, reverse, lat, detail = (
        mode.throughput_bps,
        mode.reverse_throughput_bps,
        mode.latency_us,
        mode.latency_detail,
    )
    assert reverse is not None
    rows = [
        (
            "throughput (Gbit/s)",
            (forward.median, forward.ci_low, forward.ci_high),
            hand["throughput"],
            1e9,
            ("throughput", None),
        ),
        (
            "reverse throughput (Gbit/s)",
            (reverse.median, reverse.ci_low, reverse.ci_high),
            hand["reverse"],
            1e9,
            ("reverse", None),
        ),
        (
            "latency p50 (us)",
            (lat.p50, detail.p50.ci_low, detail.p50.ci_high),
            hand["p50"],
            1.0,
            ("latency", "p50"),
        ),
        (
            "latency p99 (us)",
            (lat.p99, detail.p99.ci_low, detail.p99.ci_high),
            hand["p99"],
            1.0,
            ("latency", "p99"),
        ),
    ]
    print(
        f"host-loopback, {args.repeat} rounds of {args.duration}s tests, harness and by-hand runs "
        f"alternating per test in shuffled order, seed {args.seed}"
    )
    print(
        f"{'metric':28} {'harness median [95% CI]':30} {'by hand':>8} {'inside':>7}  "
        f"{'paired hand/harness [95% CI]':30} real difference"
    )
    ok = True
    for name, (median, ci_low, ci_high), by_hand, unit, key in rows:
        hand_median = statistics.median(by_hand)
        inside = ci_low is not None and ci_high is not None and ci_low <= hand_median <= ci_high
        paired = paired_ratio(by_hand, values(harness[key[0]], key[1]), seed=args.seed)
        negligible = (
            paired is not None
            and paired.ci_low is not None
            and paired.ci_low >= 1 - EQUIVALENCE
            and paired.ci_high is not None
            and paired.ci_high <= 1 + EQUIVALENCE
        )
        agrees = paired is not None and (not paired.real or negligible)
        ok = ok and agrees
        ci = (
            f"[{ci_low / unit:.2f}-{ci_high / unit:.2f}]"
            if ci_low is not None and ci_high is not None
            else "[n/a]"
        )
        pci = (
            f"{paired.ratio:.3f} [{paired.ci_low:.3f}-{paired.ci_high:.3f}]"
            if paired and paired.ci_low
            else "n/a"
        )
        shown = f"{median / unit:8.2f}" if median is not None else "     n/a"
        print(
            f"{name:28} {shown} {ci:21} {hand_median / unit:8.2f} {'yes' if inside else 'no':>7}  "
            f"{pci:30} {'yes' if paired and paired.real else 'no'}"
            f"{' (within +-2%: negligible)' if paired and paired.real and negligible else ''}"
        )
    print(
        "verdict:",
        "no real difference between the harness and the tools run by hand"
        if ok
        else "the harness differs from the tools run by hand",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
