"""Cost of the exposure analysis beside a live scan of the same host, measured side by side.

Live mode (the default; needs root, as the engine lab does): starts one lab engine in its own
network namespace (``tests/support/lab``), creates N running containers on N/20 bridge
networks there (each publishes one port and exposes one more), then scans it again and again,
interleaved: the scan pipeline in this process with its exposure stage and without it, and
whole ``auditor scan -f json`` processes with and without it (the stage replaced by the
identity; the dumps are read either way). Prints the medians, what the stage adds to each,
and the stage's own time inside the scan (parsing the dumps, analysing every container port
from every zone, the view the rules read). The lab removes everything it made, also on Ctrl-C.

``--synthetic``: no engine; builds in memory what a Docker 20.10 host with N containers looks
like (the iptables-save, ip -j addr/route, sysctl and docker-proxy dumps Docker would leave)
and times parsing, analysis and the built-in rules on the same snapshot (for profiling).

Usage: ``.venv/bin/python benchmarks/perf/bench_exposure.py [--synthetic] [--repeats R] [N ...]``
(default N = 200, R = 5).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.audit.run import run_rules
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.request import ScanRequest
from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import firewall_facts, host_network
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


# A whole `auditor scan` process with the exposure stage switched off (everything else as the
# user's command: the same collection, dumps read, rules, output).
WITHOUT_EXPOSURE = (
    "import sys\n"
    "import auditor.audit.pipeline as pipeline\n"
    "pipeline.with_exposure = lambda snapshot: snapshot\n"
    "from auditor.cli import main\n"
    "sys.argv[0] = 'auditor'\n"
    "main()\n"
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


def _timed(stage: Callable[[Snapshot], Snapshot], into: list[float]) -> Callable[[Snapshot], Snapshot]:
    def timed(snapshot: Snapshot) -> Snapshot:
        start = time.perf_counter()
        try:
            return stage(snapshot)
        finally:
            into.append(time.perf_counter() - start)

    return timed


def live(sizes: list[int], repeats: int) -> None:
    """Live scans of a lab engine holding N containers, with and without the exposure stage,
    interleaved: in this process (the scan pipeline) and as whole ``auditor scan`` processes."""
    sys.path.insert(0, str(TESTS))
    from support.lab import EngineConfig, Lab

    import auditor.audit.pipeline as pipeline
    from auditor.cli import tune_gc

    tune_gc()  # as the command does
    rules = discover_rules(include_plugins=False)
    real_stage = pipeline.with_exposure
    rows = []
    for n in sizes:
        with Lab([EngineConfig("bench")]) as lab:
            _fill(lab, n)
            url = lab.engines["bench"].url
            request = ScanRequest(engines=(EngineSpec(url=url),))
            args = ["scan", "--engine", url, "-f", "json", "--fail-on", "none"]
            with_cli = [sys.executable, "-m", "auditor", *args]
            without_cli = [sys.executable, "-c", WITHOUT_EXPOSURE, *args]
            stage: list[float] = []
            timed_stage = _timed(real_stage, stage)
            samples: dict[str, list[float]] = {k: [] for k in ("with", "without", "cli_with", "cli_without")}
            cells = seen = 0
            for _ in range(repeats):  # interleaved so machine noise hits all four alike
                for key, staged in (("with", timed_stage), ("without", lambda snapshot: snapshot)):
                    pipeline.with_exposure = staged
                    try:
                        start = time.perf_counter()
                        result = scan(request, rules, None)
                        samples[key].append(time.perf_counter() - start)
                    finally:
                        pipeline.with_exposure = real_stage
                    if key == "with":
                        seen = sum(len(s.containers) for s in result.snapshots)
                        exposure = result.snapshots[0].exposure
                        if exposure is None:
                            raise SystemExit(
                                f"the scan did not analyse the exposure: {result.snapshots[0].notes}"
                            )
                        cells = sum(len(p.cells) for p in exposure.ports)
                for key, command in (("cli_with", with_cli), ("cli_without", without_cli)):
                    start = time.perf_counter()
                    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                    samples[key].append(time.perf_counter() - start)
            rows.append((n, seen, cells, {k: median_ms(v) for k, v in samples.items()}, median_ms(stage)))
    print(
        f"{'N':>5} {'scanned':>8} {'cells':>6} {'stage ms':>9} {'scan ms':>8} {'w/o ms':>7} {'adds':>6} "
        f"{'CLI ms':>7} {'w/o ms':>7} {'adds':>6}"
    )
    for n, seen, cells, m, st in rows:
        adds = 100 * (m["with"] - m["without"]) / m["without"]
        adds_cli = 100 * (m["cli_with"] - m["cli_without"]) / m["cli_without"]
        print(
            f"{n:>5} {seen:>8} {cells:>6} {st:>9.1f} {m['with']:>8.0f} {m['without']:>7.0f} {adds:>5.1f}% "
            f"{m['cli_with']:>7.0f} {m['cli_without']:>7.0f} {adds_cli:>5.1f}%"
        )
    print(
        "(medians over interleaved runs, wall time. stage = the exposure stage inside the scan: parsing"
        " the dumps, analysing every container port from every zone, the view the rules read."
        " scan = the scan pipeline in this process with the stage, w/o = without it;"
        " CLI = a whole `auditor scan -f json` process with and without the stage)"
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
