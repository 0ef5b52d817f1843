"""An offline scan of a saved snapshot of 1,000 and 10,000 containers, stage by stage.

Writes the synthetic engine documents of ``bench_rule_scale.py`` (containers on networks of
twenty, compose projects, clashing and loopback ports, host and joined network modes, socket
mounts) as ``auditor snapshot`` files, then scans each file in this process REPEATS times (at
least 3), alternating the sizes, and prints the median CPU time of each stage: read (the bounded
JSON reader and the snapshot's schema), normalise (records built from the inspect documents),
rules (every built-in rule, findings sorted) and report (the JSON document). The issue's goal is
a scan dominated by reading the file, not by rules: the ``rules/read`` line says how far.
A whole-process ``auditor scan FILE -f json`` of each file is timed too (wall clock and CPU).

Usage: ``.venv/bin/python benchmarks/perf/bench_offline_snapshot.py [REPEATS] [SIZE ...]``.
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
from datetime import UTC, datetime
from pathlib import Path

from auditor.reports.json_report import render

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import evaluate
from auditor.cli import tune_gc
from auditor.collectors.base import Collected
from auditor.collectors.raw import dumps, normalize_raw
from auditor.collectors.saved import load_snapshot_file, read_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rule_scale import containers_shape  # noqa: E402

STAGES = ("read", "normalise", "rules", "report")
CHILD_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AUDITOR_STORE")}


def one_scan(path: Path, rules) -> tuple[dict[str, float], int, int]:
    out: dict[str, float] = {}
    start = time.process_time()
    raw = load_snapshot_file(str(path), read_json(path))
    out["read"] = time.process_time() - start
    start = time.process_time()
    snapshot = normalize_raw(raw)
    out["normalise"] = time.process_time() - start
    start = time.process_time()
    result = evaluate(
        [Collected(raw.target, snapshot, raw=raw)], rules, None, datetime.now(UTC), time.monotonic()
    )
    out["rules"] = time.process_time() - start
    start = time.process_time()
    render(result, io.StringIO())
    out["report"] = time.process_time() - start
    return out, len(snapshot.containers), len(result.findings)


def whole_process(path: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "auditor", "scan", str(path), "-f", "json", "--fail-on", "none"],
        check=True,
        capture_output=True,
        env=CHILD_ENV,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main(repeats: int, sizes: list[int]) -> None:
    if repeats < 3:
        sys.exit("REPEATS must be at least 3 (the figures are medians)")
    tune_gc()
    rules = discover_rules()
    with tempfile.TemporaryDirectory(prefix="auditor-bench-offline-") as tmp:
        files = {}
        for size in sizes:
            files[size] = Path(tmp) / f"snapshot-{size}.json"
            files[size].write_text(dumps(containers_shape(size)))
        times: dict[int, dict[str, list[float]]] = {size: {s: [] for s in STAGES} for size in sizes}
        process: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
        counts: dict[int, tuple[int, int]] = {}
        whole_process(files[sizes[0]])  # warm-up: bytecode written once
        for _ in range(repeats):
            for size in sizes:
                stages, containers, findings = one_scan(files[size], rules)
                counts[size] = (containers, findings)
                for stage in STAGES:
                    times[size][stage].append(stages[stage])
                process[size].append(whole_process(files[size]))
        for size in sizes:
            megabytes = files[size].stat().st_size / 1e6
            containers, findings = counts[size]
            medians = {s: statistics.median(times[size][s]) for s in STAGES}
            total = sum(medians.values())
            print(
                f"snapshot of {containers} containers ({megabytes:.1f} MB, {findings} findings), "
                f"CPU time in one process, median of {repeats}:"
            )
            for stage in STAGES:
                print(f"  {stage:10} {medians[stage]:6.3f} s  {100 * medians[stage] / total:4.0f}%")
            print(
                f"  rules/read {medians['rules'] / medians['read']:.2f} (below 1: reading the file dominates)"
            )
            wall = statistics.median(w for w, _ in process[size])
            cpu = statistics.median(c for _, c in process[size])
            print(f"  whole process `auditor scan FILE -f json`: wall {wall:.2f} s, CPU {cpu:.2f} s")
        if len(sizes) > 1:
            small, large = min(sizes), max(sizes)
            grow = sum(statistics.median(times[large][s]) for s in STAGES) / sum(
                statistics.median(times[small][s]) for s in STAGES
            )
            print(f"growth {small} -> {large} containers: {grow:.1f}x ({large / small:.0f}x is linear)")


if __name__ == "__main__":
    r = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    main(r, [int(a) for a in sys.argv[2:]] or [1000, 10000])
