"""Does the harness add a cost of its own? Its host-loopback baseline vs the tools run by hand.

In one run, rounds alternate (in shuffled order) between the harness's own code path for the
``host-loopback`` mode and iperf3/sockperf started by hand against servers started by hand on
127.0.0.1. The by-hand medians must lie inside the harness's reported 95% interval.

    .venv/bin/python benchmarks/perf/bench_harness_overhead.py [--repeat 7] [--duration 2]

Exit status 0 when every by-hand median is inside the harness interval, 1 otherwise.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def by_hand_throughput(port: int, duration: int, omit: int, reverse: bool) -> float:
    argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(duration), "-O", str(omit), "-J"]
    out = subprocess.run(argv + (["-R"] if reverse else []), capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["end"]["sum_received"]["bits_per_second"])


def by_hand_latency(port: int, duration: int) -> dict[str, float]:
    argv = ["sockperf", "ping-pong", "--tcp", "-i", "127.0.0.1", "-p", str(port), "-t", str(duration),
            "-m", "64", "--full-rtt"]
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
        subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(iperf_port)], stdout=subprocess.DEVNULL),
        subprocess.Popen(["sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", str(sockperf_port)],
                         stdout=subprocess.DEVNULL),
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
                order = ["harness", "hand"]
                rng.shuffle(order)
                for who in order:
                    if who == "harness":
                        for sample in runner.measure_step(route, opts, warmup=False):
                            harness[sample.kind][r] = sample
                    else:
                        hand["throughput"].append(by_hand_throughput(iperf_port, args.duration, opts.omit, False))
                        hand["reverse"].append(by_hand_throughput(iperf_port, args.duration, opts.omit, True))
                        lat = by_hand_latency(sockperf_port, args.duration)
                        hand["p50"].append(lat["p50"])
                        hand["p99"].append(lat["p99"])
                print(f"round {r + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        for proc in servers:
            proc.kill()
    planned = plan(opts, Capabilities())
    env_facts = {"cpus": 2, "userland_proxy": {}}
    doc = results_mod.build([p for p in planned if p.name == "host-loopback"], {"host-loopback": harness}, {},
                            env_facts, {"repeat": args.repeat}, seed=args.seed)
    mode = doc["modes"][0]
    detail = mode["latency_detail"]["ci"]
    rows = [
        ("throughput (Gbit/s)", mode["throughput_bps"], hand["throughput"], 1e9),
        ("reverse throughput (Gbit/s)", mode["reverse_throughput_bps"], hand["reverse"], 1e9),
        ("latency p50 (us)", {"median": mode["latency_us"]["p50"], "ci_low": detail["p50"][0], "ci_high": detail["p50"][1]},
         hand["p50"], 1.0),
        ("latency p99 (us)", {"median": mode["latency_us"]["p99"], "ci_low": detail["p99"][0], "ci_high": detail["p99"][1]},
         hand["p99"], 1.0),
    ]
    print(f"host-loopback, {args.repeat} interleaved rounds of {args.duration}s tests, seed {args.seed}")
    print(f"{'metric':30} {'harness median [95% CI]':34} {'by hand median':>15} {'hand/harness':>13}  inside CI")
    ok = True
    for name, summ, by_hand, unit in rows:
        hand_median = statistics.median(by_hand)
        inside = summ["ci_low"] is not None and summ["ci_low"] <= hand_median <= summ["ci_high"]
        ok = ok and inside
        ci = f"[{summ['ci_low'] / unit:.2f}-{summ['ci_high'] / unit:.2f}]" if summ["ci_low"] is not None else "[n/a]"
        print(f"{name:30} {summ['median'] / unit:10.2f} {ci:23} {hand_median / unit:15.2f} "
              f"{hand_median / summ['median']:13.3f}  {'yes' if inside else 'NO'}")
    print("verdict:", "the harness adds no measurable cost" if ok else "a by-hand median lies outside the interval")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
