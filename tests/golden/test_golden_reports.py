"""Every report format, byte for byte, for the bundled demo snapshot (time stamps aside).

Written before the architecture refactor and kept after it: moving code between modules must
not change one byte a user sees. The scenarios run the real CLI: a plain scan; a scan with a
waiver in force, an expired one, a baseline and a benchmark result; ``auditor report`` of a
saved JSON result; ``auditor diff`` of two results; the benchmark HTML and JSON; the rule list.

``AUDITOR_UPDATE_GOLDEN=1`` rewrites the files in ``tests/golden/expected/`` (review the diff).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
INPUT = HERE / "input"
EXPECTED = HERE / "expected"
DEMO = ROOT / "auditor" / "examples" / "demo-snapshot.json"
UPDATE = bool(os.environ.get("AUDITOR_UPDATE_GOLDEN"))

SCAN_OUTPUTS = ("scan.json", "scan.sarif", "junit.xml", "gl.codequality.json", "summary.md", "report.html")

_TIMES = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z| UTC)?")
_DURATION_JSON = re.compile(r'("duration_s": )[0-9.]+')
_DURATION_HTML = re.compile(r"[0-9]+\.[0-9]+ s</dd>")
_CSP_HASH = re.compile(r"sha256-[A-Za-z0-9+/=]+")
_SRCROOT = re.compile(r'("%SRCROOT%": \{\s*"uri": )"file://[^"]*"')


def normalize(text: str) -> str:
    """Drop what differs between runs: wall-clock times, durations, and hashes over them."""
    text = text.replace(str(ROOT), "<root>")
    text = _TIMES.sub("<time>", text)
    text = _DURATION_JSON.sub(r"\g<1>0", text)
    text = _DURATION_HTML.sub("<d> s</dd>", text)
    text = _SRCROOT.sub(r'\g<1>"file:///<repo-root>/"', text)  # the directory the scan ran in
    return _CSP_HASH.sub("sha256-<hash>", text)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AUDITOR_DEBUG", "DOCKER_HOST", "AUDITOR_STORE")}
    env.update(COLUMNS="160", TZ="UTC", NO_COLOR="1", TERM="dumb")
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=str(cwd),
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def check(name: str, text: str) -> None:
    expected = EXPECTED / name
    got = normalize(text)
    if UPDATE:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(got, encoding="utf-8")
        return
    assert expected.is_file(), f"no golden file {expected} (run with AUDITOR_UPDATE_GOLDEN=1)"
    want = expected.read_text(encoding="utf-8")
    assert got == want, f"{name} differs from its golden file"


def _scan(work: Path, prefix: str, *extra: str) -> None:
    outputs = [arg for out in SCAN_OUTPUTS for arg in ("-o", str(work / f"{prefix}-{out}"))]
    proc = run("scan", str(DEMO), "--fail-on", "medium", *extra, *outputs, cwd=work)
    assert proc.returncode == 1, proc.stderr
    check(f"{prefix}/stdout.txt", proc.stdout)
    check(f"{prefix}/stderr.txt", proc.stderr)
    for out in SCAN_OUTPUTS:
        check(f"{prefix}/{out}", (work / f"{prefix}-{out}").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("golden")
    (path / "waivers.yaml").write_text((INPUT / "waivers.yaml").read_text())
    (path / "bench.json").write_text((INPUT / "bench.json").read_text())
    return path


def test_plain_scan(work: Path) -> None:
    _scan(work, "plain")


def test_scan_with_policy_and_benchmark(work: Path) -> None:
    if not (work / "plain-scan.json").exists():
        _scan(work, "plain")
    previous = json.loads((work / "plain-scan.json").read_text())
    kept = [f for f in previous["findings"] if f["rule_id"] in ("PORT002", "NET005")]
    baseline = {**previous, "findings": kept}
    (work / "baseline.json").write_text(json.dumps(baseline))
    _scan(work, "policy", "--waivers", "waivers.yaml", "--baseline", "baseline.json", "--bench", "bench.json")


def test_report_of_a_saved_result(work: Path) -> None:
    if not (work / "policy-scan.json").exists():
        test_scan_with_policy_and_benchmark(work)
    for fmt in ("table", "json", "sarif", "junit", "codequality", "markdown", "html"):
        proc = run("report", "policy-scan.json", "-f", fmt, cwd=work)
        assert proc.returncode == 0, proc.stderr
        check(f"report/{fmt}.out", proc.stdout)


def test_diff_of_two_results(work: Path) -> None:
    if not (work / "policy-scan.json").exists():
        test_scan_with_policy_and_benchmark(work)
    for fmt in ("json", "markdown", "html"):
        proc = run("diff", "plain-scan.json", "policy-scan.json", "-f", fmt, cwd=work)
        assert proc.returncode in (0, 1), proc.stderr
        check(f"diff/{fmt}.out", proc.stdout)


def test_benchmark_documents() -> None:
    from auditor.reports.bench_html import render_string

    from auditor.model.bench import load

    doc = load(str(INPUT / "bench.json"))
    check("bench/bench.html", render_string(doc))


def test_rule_catalog(work: Path) -> None:
    for args, name in ((("rules",), "rules.txt"), (("explain", "PORT002"), "explain-port002.txt")):
        proc = run(*args, cwd=work)
        assert proc.returncode == 0, proc.stderr
        check(f"catalog/{name}", proc.stdout)
