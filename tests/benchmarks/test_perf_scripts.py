"""The speed benchmarks of benchmarks/perf/ run end to end, tiny (no figure is asserted: ratios
belong to the benchmarks, never to the test suite)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PERF = Path(__file__).resolve().parents[2] / "benchmarks" / "perf"
ENV = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}


def run(script: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PERF / script), *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
        check=check,
    )


@pytest.mark.slow
def test_the_stage_breakdown_names_every_stage_once():
    out = run("bench_stages.py", "4", "3").stdout
    stages = re.findall(r"^  (parse|normalise|rules|policy|report|total) ", out, re.M)
    assert stages == ["parse", "normalise", "rules", "policy", "report", "total"]
    assert "4 compose files (4 YAML documents read" in out  # each file parsed once
    assert re.search(r"^  auditor --version +wall +\d+\.\d ms, CPU +\d+\.\d ms$", out, re.M)


@pytest.mark.slow
def test_the_offline_snapshot_benchmark_prints_each_size_and_the_growth():
    out = run("bench_offline_snapshot.py", "3", "20", "40").stdout
    assert re.findall(r"^snapshot of (\d+) containers", out, re.M) == ["20", "40"]
    assert len(re.findall(r"^  rules/read \d+\.\d\d", out, re.M)) == 2
    assert "growth 20 -> 40 containers:" in out


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("compose_lint") is None, reason="needs the bench-compose extra")
def test_the_compose_benchmark_prints_each_ratio_with_both_versions():
    out = run("bench_compose_scan.py", "3", "3").stdout
    assert re.search(r"^auditor \S+ .*compose-lint \d+\.\d+\.\d+", out, re.M)
    labels = re.findall(r"^  (.+?) +ratio auditor/compose-lint: \d+\.\d\d", out, re.M)
    assert [label.strip() for label in labels] == [
        "json report, wall",
        "json report, CPU",
        "quiet (summary only), wall",
        "quiet (summary only), CPU",
        "one-file scan, wall",
        "one-file scan, CPU",
        "--version, wall",
        "--version, CPU",
        "parse",
    ]


def test_the_live_benchmark_says_how_to_obtain_docker_bench_security(tmp_path):
    proc = run("bench_live_dbs.py", str(tmp_path / "absent"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"{tmp_path / 'absent' / 'docker-bench-security.sh'} not found: "
        f"git clone https://github.com/docker/docker-bench-security {tmp_path / 'absent'}"
    )
