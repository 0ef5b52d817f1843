"""``auditor scan --bench FILE`` end to end on the bundled demo snapshot."""

from __future__ import annotations

import io
import json
from pathlib import Path

from auditor.reports.bench_json import render_json
from click.testing import CliRunner

from auditor.cli import build_cli

from .synthetic import document, standard_results

DEMO = Path(__file__).resolve().parents[2] / "auditor" / "examples" / "demo-snapshot.json"


def dumps(result) -> str:
    out = io.StringIO()
    render_json(result, out)
    return out.getvalue()


def scan(*args: str):
    return CliRunner().invoke(build_cli(), ["scan", str(DEMO), "-f", "json", "--fail-on", "none", *args])


def test_scan_cites_measured_costs(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(dumps(document(standard_results())))
    plain = json.loads(scan().output)
    result = scan("--bench", str(bench))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    by_id = {f["rule_id"]: f for f in doc["findings"]}
    assert (
        "measured on this host (a published port vs the container's own address): throughput 6% less"
        in by_id["PORT001"]["message"]
    )
    assert by_id["PORT001"]["evidence"]["benchmark_run"] == "abc123 (2026-11-27T20:00:00+00:00)"
    assert "measured on this host" in by_id["NET003"]["message"]
    assert "measured on this host" not in by_id["HOST002"]["message"]
    # fingerprints (and so waivers and baselines) do not change when costs are cited
    assert sorted(f["fingerprint"] for f in doc["findings"]) == sorted(
        f["fingerprint"] for f in plain["findings"]
    )


def test_scan_rejects_a_file_that_is_not_a_bench_result(tmp_path):
    bogus = tmp_path / "bench.json"
    bogus.write_text('{"schema_version": "1.0", "findings": []}')
    result = scan("--bench", str(bogus))
    assert result.exit_code == 2
    assert result.output.strip().endswith("not an `auditor bench` result (missing kind: auditor-bench)")


def test_saved_result_keeps_the_benchmark_for_a_later_html_report(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(dumps(document(standard_results())))
    saved = tmp_path / "scan.json"
    result = CliRunner().invoke(
        build_cli(), ["scan", str(DEMO), "-q", "-o", str(saved), "--fail-on", "none", "--bench", str(bench)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(saved.read_text())["benchmark"] == json.loads(bench.read_text())
    page = tmp_path / "report.html"
    rendered = CliRunner().invoke(build_cli(), ["report", str(saved), "-o", str(page)])
    assert rendered.exit_code == 0, rendered.output
    assert '<section id="benchmark">' in page.read_text()
