"""Where a compose scan spends its time: start-up, parse, normalise, rules, policy, report.

Generates the same N compose projects as ``bench_compose_scan.py`` (default 1,000), then in
this process runs the scan's floors one after the other exactly as ``auditor scan DIR -f json``
chains them, REPEATS times (at least 3), and prints the median CPU time of each stage:

- start-up: whole-process wall clock and CPU time of ``auditor --version`` and of importing
  the scan command's module (each its own interpreter, bytecode cached, median of REPEATS);
- parse: the YAML reader alone (every call of the libyaml event composer, counted inside the
  collection, so a file parsed twice counts twice);
- normalise: the rest of the collection (discovery, interpolation, extends and merge, the
  model build, inline ignores);
- rules: every built-in rule over every snapshot, findings sorted;
- policy: waivers, baseline and inline ignores with no policy file;
- report: the JSON document rendered to a string.

The garbage collector is set up the way the command line sets it up. Usage:
``.venv/bin/python benchmarks/perf/bench_stages.py [N] [REPEATS]``.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import chdir
from datetime import UTC, datetime
from pathlib import Path

from auditor.reports.json_report import render

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import evaluate
from auditor.cli import tune_gc
from auditor.collectors.compose import collect_compose
from auditor.collectors.request import ComposeOptions
from auditor.model import yamltree as tree_module
from auditor.policy.apply import Policy, apply_policy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compose_scan import generate, versions  # noqa: E402

STAGES = ("parse", "normalise", "rules", "policy", "report")
CHILD_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AUDITOR_STORE")}


class ParseClock:
    """Accumulates the CPU time spent in the YAML composer while it is installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._original: Callable | None = None

    def __enter__(self) -> ParseClock:
        original = tree_module._Composer.document
        self._original = original
        clock = self

        def timed_document(composer):
            start = time.process_time()
            try:
                return original(composer)
            finally:
                clock.seconds += time.process_time() - start
                clock.calls += 1

        tree_module._Composer.document = timed_document  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._original is not None:
            tree_module._Composer.document = self._original  # type: ignore[method-assign]


def one_scan(root: Path) -> tuple[dict[str, float], int, int]:
    """One scan of ``root`` stage by stage: CPU seconds per stage, findings, YAML documents read."""
    rules = discover_rules()
    out: dict[str, float] = {}
    with ParseClock() as parse:
        start = time.process_time()
        collected = collect_compose([root], ComposeOptions())
        collect = time.process_time() - start
    out["parse"] = parse.seconds
    out["normalise"] = collect - parse.seconds
    start = time.process_time()
    result = evaluate(collected, rules, None, datetime.now(UTC), time.monotonic())
    out["rules"] = time.process_time() - start
    start = time.process_time()
    result = apply_policy(result, Policy(today=datetime.now(UTC).date()))
    out["policy"] = time.process_time() - start
    start = time.process_time()
    stream = io.StringIO()
    render(result, stream)
    out["report"] = time.process_time() - start
    return out, len(result.findings), parse.calls


def startup(repeats: int) -> dict[str, list[tuple[float, float]]]:
    """Whole-process wall clock and CPU time of the start-up probes, interleaved, bytecode cached."""
    probes = {
        "auditor --version": [sys.executable, "-m", "auditor", "--version"],
        "import the scan command": [sys.executable, "-c", "import auditor.cli, auditor.commands.scan"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in probes}
    subprocess.run(
        probes["import the scan command"], check=True, capture_output=True, env=CHILD_ENV
    )  # warm-up
    for _ in range(repeats):
        for name, args in probes.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True, env=CHILD_ENV)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs[name].append((wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    return runs


def main(count: int, repeats: int) -> None:
    if repeats < 3:
        sys.exit("REPEATS must be at least 3 (the figures are medians)")
    tune_gc()
    print(versions())
    print(f"start-up, whole process, bytecode cached (median of {repeats}):")
    for name, runs in startup(repeats).items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"  {name:26} wall {1000 * wall:7.1f} ms, CPU {1000 * cpu:7.1f} ms")
    with tempfile.TemporaryDirectory(prefix="auditor-bench-stages-") as tmp:
        root = Path(tmp)
        generate(root, count)
        times: dict[str, list[float]] = {stage: [] for stage in STAGES}
        with chdir(root):
            for _ in range(repeats):
                stages, findings, documents = one_scan(Path("."))
                for stage in STAGES:
                    times[stage].append(stages[stage])
    total = sum(statistics.median(times[s]) for s in STAGES)
    print(
        f"in one process, {count} compose files ({documents} YAML documents read, {findings} findings), "
        f"CPU time, median of {repeats}:"
    )
    for stage in STAGES:
        median = statistics.median(times[stage])
        print(
            f"  {stage:10} {median:6.3f} s  {100 * median / total:4.0f}%  runs: {', '.join(f'{x:.3f}' for x in times[stage])}"
        )
    print(f"  {'total':10} {total:6.3f} s")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    r = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    main(n, r)
