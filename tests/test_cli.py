"""The CLI's contract: documented exit codes and one-line errors, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "auditor" / "examples" / "demo-snapshot.json"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]


def test_unreachable_engine_exits_3_with_one_line():
    proc = run("scan", "--engine", "tcp://127.0.0.1:1", "--timeout", "3")
    assert proc.returncode == 3
    assert_one_line_error(proc, "cannot reach the Docker engine at tcp://127.0.0.1:1")


def test_missing_socket_exits_3():
    proc = run("scan", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert proc.returncode == 3
    assert_one_line_error(proc, "unix:///nonexistent/docker.sock")


def test_malformed_snapshot_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "auditor-snapshot", "version": 1, "target": ')
    proc = run("scan", str(bad))
    assert proc.returncode == 2
    assert_one_line_error(proc, "malformed JSON")


def test_inspect_file_with_foreign_items_exits_2(tmp_path):
    bad = tmp_path / "inspect.json"
    bad.write_text(
        json.dumps([{"HostConfig": {}, "Config": {}}, {"Name": "x", "Driver": "bridge"}, {"what": 1}])
    )
    proc = run("scan", str(bad))
    assert proc.returncode == 2


def test_bundled_example_scan_gates_on_high():
    proc = run("scan", str(EXAMPLE), "-f", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == "1.0"
    assert doc["gate"] == {
        "fail_on": "high",
        "passed": False,
        "verdict": "failed",
        "failing": doc["gate"]["failing"],
    }
    assert doc["summary"]["total"] == len(doc["findings"])
    assert {t["status"] for t in doc["targets"]} == {"complete"}


@pytest.mark.parametrize("fail_on, code", [("none", 0), ("critical", 1), ("info", 1)])
def test_fail_on_threshold(fail_on, code):
    assert run("scan", str(EXAMPLE), "-q", "--fail-on", fail_on).returncode == code


def test_unknown_severity_and_format_are_usage_errors():
    proc = run("scan", str(EXAMPLE), "--fail-on", "severe")
    assert proc.returncode == 2
    assert_one_line_error(proc, "unknown severity 'severe'")
    proc = run("scan", str(EXAMPLE), "-f", "yaml")
    assert proc.returncode == 2
    assert_one_line_error(
        proc,
        "Invalid value for '-f' / '--format': 'yaml' is not one of 'codequality', 'html', 'json', 'junit', 'markdown', 'none', 'sarif', 'table'",
    )


def test_output_file_format_follows_extension(tmp_path):
    out = tmp_path / "result.json"
    proc = run("scan", str(EXAMPLE), "-f", "none", "-o", str(out), "--fail-on", "none")
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(out.read_text())["tool"]["name"] == "auditor"


def test_explain_and_unknown_rule():
    proc = run("explain", "port001")
    assert proc.returncode == 0 and proc.stdout.startswith("PORT001: Port published on all interfaces")
    proc = run("explain", "NOPE999")
    assert proc.returncode == 2
    assert_one_line_error(proc, "unknown rule id 'NOPE999'")


def test_an_argument_with_a_nul_byte_is_a_usage_error_not_a_crash():
    """A program (never a shell) can pass NUL; os.stat() on it raises ValueError."""
    from click.testing import CliRunner

    from auditor.cli import build_cli

    result = CliRunner().invoke(build_cli(), ["scan", "compose.yaml", "--fail-on", "--fail-on", "\x00"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "an argument holds a NUL byte: \\x00" in result.output
