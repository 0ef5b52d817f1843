"""Cost of the exposure analysis beside a live scan of the same host, measured side by side.

Live mode (the default; needs root, as the engine lab does): starts one lab engine in its own
network namespace (``tests/support/lab``), creates N running containers on N/20 bridge
networks there (each publishes one port and exposes one more), reads the host's dumps inside
that namespace with the exposure readers, then alternates a live scan of the engine (the scan
pipeline, in process, wall time) with the analysis of the same facts (parsing the dumps and
``analyze_exposure`` over every container port from every zone, CPU time of this process and
wall time). Prints medians and analysis / scan. The lab removes everything it made, also on
Ctrl-C.

``--synthetic``: no engine; builds in memory what a Docker 20.10 host with N containers looks
like (the iptables-save, ip -j addr/route, sysctl and docker-proxy dumps Docker would leave)
and times parsing, analysis and the built-in rules on the same snapshot (for profiling).

Usage: ``.venv/bin/python benchmarks/perf/bench_exposure.py [--synthetic] [--repeats R] [N ...]``
(default N = 200, R = 5).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.audit.run import run_rules
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.request import ScanRequest
from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import facts_from_json, firewall_facts, host_network
from auditor.model.records import DaemonFacts, Snapshot, SourceKind, Target

REPEATS = 5
PER_NETWORK = 20
TESTS = Path(__file__).resolve().parents[2] / "tests"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def synthetic(sizes: list[int], repeats: int) -> None:
    """Parsing and analysis of a synthetic host beside the built-in rules (no engine)."""
    sys.path.insert(0, str(TESTS))
    from support.exposure_synthetic import synthetic_host

    rules = discover_rules(include_plugins=False)
    print(f"{'N':>5} {'cells':>6} {'parse ms':>9} {'analysis ms':>12} {'rules ms':>9} {'analysis/rules':>15}")
    for n in sizes:
        containers, networks, fw_dumps, net_dumps = synthetic_host(n)
        snapshot = Snapshot(
            Target(SourceKind.SNAPSHOT, "synthetic", "synthetic"),
            DaemonFacts(),
            tuple(containers),
            tuple(networks),
        )
        parse, analysis, rule_times = [], [], []
        cells = 0
        for _ in range(repeats):  # interleaved so machine noise hits all three alike
            start = time.process_time()
            firewall = firewall_facts(**fw_dumps)
            network = host_network(**net_dumps)
            parse.append(time.process_time() - start)
            start = time.process_time()
            matrix = analyze_exposure(containers, networks, firewall, network)
            analysis.append(time.process_time() - start)
            cells = len(matrix.cells)
            start = time.process_time()
            run_rules(snapshot, rules)
            rule_times.append(time.process_time() - start)
        p, a, r = median_ms(parse), median_ms(analysis), median_ms(rule_times)
        print(f"{n:>5} {cells:>6} {p:>9.1f} {a:>12.1f} {r:>9.1f} {(p + a) / r:>15.2f}")


READ_DUMPS = (
    "import json, sys\n"
    "from auditor.exposure.facts import facts_to_json, read_firewall, read_host_network\n"
    "json.dump(facts_to_json(read_firewall(), read_host_network()), sys.stdout)\n"
)


def _fill(lab, n: int) -> None:
    """``n`` running containers on n/20 labelled networks of the lab engine ``bench``."""
    engine = lab.engines["bench"]
    api = engine.client.api
    nets = [f"bnet{k}" for k in range((n + PER_NETWORK - 1) // PER_NETWORK)]
    if len(nets) > 15:
        raise SystemExit("at most 300 containers: the lab engine's /20 holds 15 more /24 networks")
    block = engine.plan.bridge_cidr.supernet(new_prefix=20)
    subnets = list(block.subnets(new_prefix=24))[1:]  # the first is docker0's
    for name, subnet in zip(nets, subnets, strict=False):
        ipam = {"Driver": "default", "Config": [{"Subnet": str(subnet)}]}
        api.create_network(name, driver="bridge", ipam=ipam, labels={"io.auditor.test": "1"})

    def one(i: int) -> None:
        host_config = api.create_host_config(
            port_bindings={80: 20000 + i}, network_mode=nets[i // PER_NETWORK]
        )
        created = api.create_container(
            lab.image,
            ["sleep", "86400"],
            name=f"bench{i:04d}",
            ports=[80, 9100],
            host_config=host_config,
            labels={"io.auditor.test": "1"},
        )
        api.start(created["Id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(n)))


def live(sizes: list[int], repeats: int) -> None:
    """A live scan of a lab engine holding N containers beside the analysis of its facts."""
    sys.path.insert(0, str(TESTS))
    from support.exposure_lab import model_records
    from support.lab import EngineConfig, Lab

    rules = discover_rules(include_plugins=False)
    rows: list[tuple[int, int, int, float, float, float, float, float]] = []
    for n in sizes:
        with Lab([EngineConfig("bench")]) as lab:
            _fill(lab, n)
            dumps = lab.run("bench", [sys.executable, "-c", READ_DUMPS], timeout=120).stdout
            containers, networks = model_records(lab, "bench")
            url = lab.engines["bench"].url
            request = ScanRequest(engines=(EngineSpec(url=url),))
            command = [sys.executable, "-m", "auditor", "scan", "--engine", url, "-f", "none"]
            command += ["--fail-on", "none"]
            scans, scan_cpu, cli, cpu, wall = [], [], [], [], []
            cells, seen = 0, 0
            for _ in range(repeats):  # interleaved so machine noise hits all three alike
                start, start_cpu = time.perf_counter(), time.process_time()
                result = scan(request, rules, None)
                scans.append(time.perf_counter() - start)
                scan_cpu.append(time.process_time() - start_cpu)
                seen = sum(len(s.containers) for s in result.snapshots)
                start = time.perf_counter()
                subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
                cli.append(time.perf_counter() - start)
                start, start_cpu = time.perf_counter(), time.process_time()
                firewall, network = facts_from_json(json.loads(dumps))
                assert firewall is not None and network is not None
                matrix = analyze_exposure(containers, networks, firewall, network)
                cpu.append(time.process_time() - start_cpu)
                wall.append(time.perf_counter() - start)
                cells = len(matrix.cells)
            s, s_cpu, c, a, a_cpu = (median_ms(x) for x in (scans, scan_cpu, cli, wall, cpu))
            rows.append((n, seen, cells, s, s_cpu, c, a, a_cpu))
    print(
        f"{'N':>5} {'scanned':>8} {'cells':>6} {'scan ms':>8} {'(cpu)':>6} {'CLI ms':>7} "
        f"{'analysis ms':>12} {'(cpu)':>6} {'/scan':>6} {'cpu/cpu':>8} {'/CLI':>6}"
    )
    for n, seen, cells, s, s_cpu, c, a, a_cpu in rows:
        print(
            f"{n:>5} {seen:>8} {cells:>6} {s:>8.0f} {s_cpu:>6.0f} {c:>7.0f} {a:>12.1f} {a_cpu:>6.1f} "
            f"{100 * a / s:>5.1f}% {100 * a_cpu / s_cpu:>7.1f}% {100 * a / c:>5.1f}%"
        )
    print(
        "(median of each over interleaved runs: scan = the scan pipeline in this process, wall and CPU;"
        " CLI = a whole `auditor scan -f none` process; analysis = parsing the dumps and analyze_exposure)"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("sizes", nargs="*", type=int, default=[200])
    args = parser.parse_args(argv)
    (synthetic if args.synthetic else live)(args.sizes, max(3, args.repeats))


if __name__ == "__main__":
    main(sys.argv[1:])
