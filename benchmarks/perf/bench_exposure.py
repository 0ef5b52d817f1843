"""Cost of the exposure analysis beside a live scan of the same host, measured side by side.

Live mode (the default; needs root, as the engine lab does): starts one lab engine in its own
network namespace (``tests/support/lab``), creates N running containers on N/20 bridge
networks there (each publishes one port and exposes one more), then scans it again and again,
interleaved, in three variants: with all of the exposure; without its stage (replaced by the
identity, and the collector's child not asked to analyse ahead; the dumps are still read);
without the stage and without reading the exposure's dumps. Each variant runs as the scan
pipeline in this process and as a whole ``auditor scan -f json`` process (bytecode cached as
in an installed package, after one untimed warm-up run of each). Prints the medians, what the
stage (and the stage with its dumps) adds, and the stage's own time inside the scan (waiting
for the child's answer, or computing it: parsing the dumps, analysing every container port
from every zone, the view the rules read), and what the stage adds to a whole process paired
by round (the median of each round's with / no stage, with its bootstrap interval: the two
ran seconds apart, so a phase of a noisy machine hits both). The lab removes everything it
made, also on Ctrl-C.

``--synthetic``: no engine; builds in memory what a Docker 20.10 host with N containers looks
like (the iptables-save, ip -j addr/route, sysctl and docker-proxy dumps Docker would leave)
and times parsing, analysis and the built-in rules on the same snapshot (for profiling).

Usage: ``.venv/bin/python benchmarks/perf/bench_exposure.py [--synthetic] [--repeats R] [N ...]``
(default N = 200, R = 5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from auditor.benchmarks.statistics import paired_ratio

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.audit.run import run_rules
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.request import ScanRequest
from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import firewall_facts, host_network
from auditor.model.bench import Ratio
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


# Whole `auditor scan` processes as the user's command, with parts of the exposure switched
# off: "stage" replaces the exposure stage by the identity (the dumps are still read, and
# saved); "dumps" also skips reading the exposure's own dumps in the daemon's namespace (the
# firewall facts other rules use are still read).
# Without the stage, nothing of the exposure is analysed, nor imported: not in the scan, nor
# ahead of it in the collector's child process (``auditor.collectors.ahead``), which then reads
# the host's facts only. (The import counts: ~50 ms of the analysis' cost on Python 3.11.)
NO_STAGE = (  # the command forks its children before the pipeline: neither analyses ahead
    "pipeline.with_exposure = lambda snapshot, ahead=None: snapshot\n"
    "pipeline.collect = lambda request, host_progress=None, exposure_ahead=False, children=None: "
    "sources.collect(request, host_progress, False, children)\n"
    "forked_ahead = sources.forked_ahead\n"
    "sources.forked_ahead = lambda request, exposure_ahead: forked_ahead(request, False)\n"
)
SWITCHES = {
    "stage": NO_STAGE,
    "dumps": NO_STAGE + "daemon_facts.namespace_dumps = lambda *args: None\n",
}
CLI_WITHOUT = (
    "import sys\n"
    "import auditor.audit.pipeline as pipeline\n"
    "import auditor.collectors.daemon_facts as daemon_facts\n"
    "import auditor.collectors.sources as sources\n"
    "{switch}"
    "from auditor.cli import main\n"
    "sys.argv[0] = 'auditor'\n"
    "main()\n"
)
VARIANTS = ("with", "no stage", "no dumps")


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


def _timed(stage: Callable[..., Snapshot], into: list[float]) -> Callable[..., Snapshot]:
    def timed(snapshot: Snapshot, ahead: object = None) -> Snapshot:
        start = time.perf_counter()
        try:
            return stage(snapshot, ahead)
        finally:
            into.append(time.perf_counter() - start)

    return timed


@contextmanager
def _variant(name: str, timed_stage: Callable[[Snapshot], Snapshot]) -> Iterator[None]:
    """The scan pipeline of this process as in ``SWITCHES`` (``with``: the stage timed)."""
    import auditor.audit.pipeline as pipeline
    import auditor.collectors.daemon_facts as daemon_facts
    import auditor.collectors.sources as sources

    real_stage, real_dumps, real_collect = (
        pipeline.with_exposure,
        daemon_facts.namespace_dumps,
        pipeline.collect,
    )
    if name == "with":
        pipeline.with_exposure = timed_stage  # type: ignore[assignment]
    else:
        pipeline.with_exposure = lambda snapshot, ahead=None: snapshot
        pipeline.collect = lambda request, host_progress=None, exposure_ahead=False, children=None: (
            sources.collect(request, host_progress, False, children)
        )
    if name == "no dumps":
        daemon_facts.namespace_dumps = lambda *args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        pipeline.with_exposure, daemon_facts.namespace_dumps, pipeline.collect = (
            real_stage,
            real_dumps,
            real_collect,
        )


def live(sizes: list[int], repeats: int) -> None:
    """Live scans of a lab engine holding N containers with all of the exposure, without its
    stage, and without its dumps either, interleaved: in this process (the scan pipeline) and
    as whole ``auditor scan`` processes."""
    sys.path.insert(0, str(TESTS))
    from support.lab import EngineConfig, Lab

    import auditor.audit.pipeline as pipeline
    from auditor.cli import tune_gc

    tune_gc()  # as the command does
    rules = discover_rules(include_plugins=False)
    rows = []
    paired: list[tuple[int, Ratio | None]] = []
    for n in sizes:
        with (
            Lab([EngineConfig("bench")]) as lab,
            tempfile.TemporaryDirectory(prefix="auditor-pycache-") as pycache,
        ):
            _fill(lab, n)
            url = lab.engines["bench"].url
            request = ScanRequest(engines=(EngineSpec(url=url),))
            args = ["scan", "--engine", url, "-f", "json", "--fail-on", "none"]
            commands = {
                "with": [sys.executable, "-m", "auditor", *args],
                "no stage": [sys.executable, "-c", CLI_WITHOUT.format(switch=SWITCHES["stage"]), *args],
                "no dumps": [sys.executable, "-c", CLI_WITHOUT.format(switch=SWITCHES["dumps"]), *args],
            }
            # Whole processes load bytecode as an installed package does: compiled once into a
            # cache of the benchmark's own (this environment may set PYTHONDONTWRITEBYTECODE,
            # which would recompile every module the scan imports on every run).
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env["PYTHONPYCACHEPREFIX"] = pycache
            for command in commands.values():  # warm-up: fills the cache, not timed
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
            stage: list[float] = []
            timed_stage = _timed(pipeline.with_exposure, stage)
            inproc: dict[str, list[float]] = {k: [] for k in VARIANTS}
            whole: dict[str, list[float]] = {k: [] for k in VARIANTS}
            cells = seen = 0
            for _ in range(repeats):  # interleaved so machine noise hits every variant alike
                for name in VARIANTS:
                    with _variant(name, timed_stage):
                        start = time.perf_counter()
                        result = scan(request, rules, None)
                        inproc[name].append(time.perf_counter() - start)
                    exposure = result.snapshots[0].exposure
                    if (exposure is None) != (name != "with"):
                        raise SystemExit(f"{name}: exposure {'missing' if exposure is None else 'present'}")
                    if exposure is not None:
                        seen = sum(len(s.containers) for s in result.snapshots)
                        cells = sum(len(p.cells) for p in exposure.ports)
                for name in VARIANTS:
                    start = time.perf_counter()
                    subprocess.run(commands[name], check=True, stdout=subprocess.DEVNULL, env=env)
                    whole[name].append(time.perf_counter() - start)
            rows.append(
                (n, seen, cells, median_ms(stage), {k: median_ms(v) for k, v in inproc.items()},
                 {k: median_ms(v) for k, v in whole.items()})
            )  # fmt: skip
            paired.append((n, paired_ratio(whole["with"], whole["no stage"])))
    print(f"{'N':>5} {'scanned':>8} {'cells':>6} {'stage ms':>9}   {'run':<10} {'with':>6} {'no stage':>9} "
          f"{'adds':>6} {'no dumps':>9} {'adds':>6}")  # fmt: skip
    for n, seen, cells, st, inp, wh in rows:
        for label, m in (("in process", inp), ("process", wh)):
            stage_adds = 100 * (m["with"] - m["no stage"]) / m["no stage"]
            all_adds = 100 * (m["with"] - m["no dumps"]) / m["no dumps"]
            print(f"{n:>5} {seen:>8} {cells:>6} {st:>9.1f}   {label:<10} {m['with']:>6.0f} {m['no stage']:>9.0f} "
                  f"{stage_adds:>5.1f}% {m['no dumps']:>9.0f} {all_adds:>5.1f}%")  # fmt: skip
    for n, paired_adds in paired:  # each round's two processes ran seconds apart: phases of
        if paired_adds is None:  # the machine hit both, unlike the medians taken minutes apart
            continue
        low, high = paired_adds.ci_low, paired_adds.ci_high
        interval = (
            f"95% interval {100 * (low - 1):.1f}%-{100 * (high - 1):.1f}%"
            if low is not None and high is not None
            else "no interval"
        )
        print(f"{n:>5} whole process, paired by round (with / no stage): adds {100 * (paired_adds.ratio - 1):.1f}%, "
              f"{interval} ({paired_adds.pairs} rounds)")  # fmt: skip
    print(
        "(medians over interleaved runs, wall ms. stage = the exposure stage inside the scan: parsing the"
        " dumps, analysing every container port from every zone, the view the rules read. with = a scan"
        " with all of it; no stage = the same scan without the stage (dumps still read);"
        " no dumps = without the stage and without reading the exposure's dumps."
        " in process = the scan pipeline in this process; process = a whole `auditor scan -f json`)"
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
