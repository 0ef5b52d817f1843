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
from auditor.benchmarks import results as results_mod
from auditor.benchmarks import runner
from auditor.benchmarks.environment import BenchEnvironment, new_run_id
from auditor.benchmarks.plan import Capabilities, options, plan
from auditor.benchmarks.results import values
from auditor.benchmarks.statistics import paired_ratio

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
    opts = options(modes="host-loopback", duration=args.duration, repeat=args.repeat)
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
        with BenchEnvironment(client, ["host-loopback"], new_run_id()) as env:
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
                            lat = by_hand_latency(sockperf_port, args.duration)
                            hand["p50"].append(lat["p50"])
                            hand["p99"].append(lat["p99"])
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
    env_facts = {"cpus": 2, "userland_proxy": {}}
    doc = results_mod.build(
        [p for p in planned if p.name == "host-loopback"],
        {"host-loopback": harness},
        {},
        env_facts,
        {"repeat": args.repeat},
        seed=args.seed,
    )
    mode = doc["modes"][0]
    detail = mode["latency_detail"]["ci"]
    rows = [
        ("throughput (Gbit/s)", mode["throughput_bps"], hand["throughput"], 1e9, ("throughput", None)),
        (
            "reverse throughput (Gbit/s)",
            mode["reverse_throughput_bps"],
            hand["reverse"],
            1e9,
            ("reverse", None),
        ),
        (
            "latency p50 (us)",
            {"median": mode["latency_us"]["p50"], "ci_low": detail["p50"][0], "ci_high": detail["p50"][1]},
            hand["p50"],
            1.0,
            ("latency", "p50"),
        ),
        (
            "latency p99 (us)",
            {"median": mode["latency_us"]["p99"], "ci_low": detail["p99"][0], "ci_high": detail["p99"][1]},
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
    for name, summ, by_hand, unit, key in rows:
        hand_median = statistics.median(by_hand)
        inside = summ["ci_low"] is not None and summ["ci_low"] <= hand_median <= summ["ci_high"]
        paired = paired_ratio(by_hand, values(harness[key[0]], key[1]), seed=args.seed)
        negligible = (
            paired is not None
            and paired.ci_low is not None
            and paired.ci_low >= 1 - EQUIVALENCE
            and paired.ci_high <= 1 + EQUIVALENCE
        )
        agrees = paired is not None and (not paired.real_difference or negligible)
        ok = ok and agrees
        ci = (
            f"[{summ['ci_low'] / unit:.2f}-{summ['ci_high'] / unit:.2f}]"
            if summ["ci_low"] is not None
            else "[n/a]"
        )
        pci = (
            f"{paired.ratio:.3f} [{paired.ci_low:.3f}-{paired.ci_high:.3f}]"
            if paired and paired.ci_low
            else "n/a"
        )
        print(
            f"{name:28} {summ['median'] / unit:8.2f} {ci:21} {hand_median / unit:8.2f} {'yes' if inside else 'no':>7}  "
            f"{pci:30} {'yes' if paired and paired.real_difference else 'no'}"
            f"{' (within +-2%: negligible)' if paired and paired.real_difference and negligible else ''}"
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
