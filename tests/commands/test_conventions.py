"""CLI conventions users bring from trivy, hadolint and checkov: a display filter, comma lists,
listed format choices, stdin, shell completion, -q, COLUMNS, one "not checked" list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "auditor" / "examples" / "demo-snapshot.json"
POSTGRES = 'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n'


def auditor(
    *args: str, cwd: Path | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE", "COLUMNS")}
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **(env or {})},
        input=stdin,
        timeout=120,
    )


def test_severity_filters_what_is_shown_but_not_the_gate(tmp_path):
    full = json.loads(auditor("scan", str(EXAMPLE), "-f", "json", "--fail-on", "medium").stdout)
    proc = auditor("scan", str(EXAMPLE), "-f", "json", "--fail-on", "medium", "--severity", "critical")
    shown = json.loads(proc.stdout)
    assert proc.returncode == 1  # medium and high findings still fail the gate
    assert {f["severity"] for f in shown["findings"]} == {"critical"}
    assert len(shown["findings"]) == full["summary"]["critical"] == 2
    assert (
        shown["gate"]
        == full["gate"]
        == {"fail_on": "medium", "passed": False, "verdict": "failed", "failing": full["gate"]["failing"]}
    )
    table = auditor("scan", str(EXAMPLE), "--fail-on", "medium", "--severity", "high").stdout
    assert "gate fail-on medium: FAILED" in table and "│ medium " not in table
    bad = auditor("scan", str(EXAMPLE), "--severity", "severe")
    assert (bad.returncode, bad.stderr) == (
        2,
        "auditor: error: --severity: unknown severity 'severe' (choose from critical, high, medium, low, info)\n",
    )


def test_rule_selection_takes_comma_lists():
    proc = auditor(
        "scan",
        str(EXAMPLE),
        "-f",
        "json",
        "--fail-on",
        "none",
        "--enable-rule",
        "port001, host002",
        "--enable-rule",
        "NET003",
    )
    assert json.loads(proc.stdout)["scan"]["rules_run"] == ["HOST002", "NET003", "PORT001"]
    proc = auditor(
        "scan", str(EXAMPLE), "-f", "json", "--fail-on", "none", "--disable-rule", "PORT001,PORT002"
    )
    assert {"PORT001", "PORT002"}.isdisjoint(json.loads(proc.stdout)["scan"]["rules_run"])
    bad = auditor("scan", str(EXAMPLE), "--enable-rule", "PORT001,NOPE9")
    assert (bad.returncode, bad.stderr) == (
        2,
        "auditor: error: --enable-rule: unknown rule id 'NOPE9' (see `auditor rules`)\n",
    )


def test_format_none_writes_nothing_to_stdout_and_quiet_only_silences_stderr(tmp_path):
    out = tmp_path / "r.json"
    proc = auditor("scan", str(EXAMPLE), "-f", "none", "-o", str(out), "--fail-on", "none")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert json.loads(out.read_text())["tool"]["name"] == "auditor"
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "- rule: PORT001\n  match: {host: '*'}\n  reason: r\n  owner: o\n  expires: 2001-01-01\n"
    )
    loud = auditor("scan", str(EXAMPLE), "--fail-on", "none", "--waivers", str(waivers))
    assert "expired on 2001-01-01" in loud.stderr
    quiet = auditor("scan", str(EXAMPLE), "--fail-on", "none", "--waivers", str(waivers), "-q")
    assert quiet.stderr == "" and "findings (" in quiet.stdout  # the report itself is still written


def test_format_choices_are_listed_in_help_and_completion():
    assert "[codequality|html|json|junit|markdown|none|sarif|table]" in auditor("scan", "--help").stdout
    # Completion is the installed `auditor` command's (click names the variable after it).
    command = str(Path(sys.executable).with_name("auditor"))
    env = {
        **os.environ,
        "_AUDITOR_COMPLETE": "bash_complete",
        "COMP_WORDS": "auditor scan -f ",
        "COMP_CWORD": "3",
    }
    proc = subprocess.run([command], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.split() == [
        f"plain,{n}" for n in ("codequality", "html", "json", "junit", "markdown", "none", "sarif", "table")
    ]
    script = subprocess.run(
        [command],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_AUDITOR_COMPLETE": "bash_source"},
    ).stdout
    assert "_auditor_completion()" in script and "complete " in script


def test_bad_fail_on_lists_none():
    proc = auditor("scan", str(EXAMPLE), "--fail-on", "bogus")
    assert proc.stderr == (
        "auditor: error: --fail-on: unknown severity 'bogus' "
        "(choose from critical, high, medium, low, info, none)\n"
    )


def test_snapshot_and_watch_do_not_call_engine_repeatable():
    for command in ("snapshot", "watch"):
        text = " ".join(auditor(command, "--help").stdout.split())
        assert "ssh:// (one engine)." in text and "repeatable" not in text.split("--tls-verify")[0]
    assert "ssh:// (repeatable)." in " ".join(auditor("scan", "--help").stdout.split())


def test_scan_dash_reads_a_compose_file_from_stdin(tmp_path):
    proc = auditor("scan", "-", "-f", "json", "--fail-on", "high", cwd=tmp_path, stdin=POSTGRES)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert [(f["rule_id"], f["location"]["uri"], f["location"]["line"]) for f in report["findings"]] == [
        ("PORT002", "stdin", 4)
    ]  # PORT001 of the same binding is folded into PORT002
    assert report["targets"][0]["name"] == tmp_path.name.lower().replace(".", "")  # the project dir is cwd


def test_scan_dash_reads_saved_json_from_stdin(tmp_path):
    saved = auditor("scan", "-", "-f", "json", "--fail-on", "none", cwd=tmp_path, stdin=EXAMPLE.read_text())
    direct = auditor("scan", str(EXAMPLE), "-f", "json", "--fail-on", "none")
    assert saved.returncode == 0, saved.stderr
    fingerprints = [f["fingerprint"] for f in json.loads(saved.stdout)["findings"]]
    assert fingerprints == [f["fingerprint"] for f in json.loads(direct.stdout)["findings"]]


def test_scan_dash_is_bounded_and_errors_are_one_line(tmp_path):
    bad = auditor("scan", "-", cwd=tmp_path, stdin="services: [")
    assert bad.returncode == 2
    assert bad.stderr.startswith("auditor: error: stdin:") and "YAML syntax error" in bad.stderr
    assert bad.stderr.count("\n") == 1
    huge = auditor("scan", "-", cwd=tmp_path, stdin="# " + "x" * (5 * 1024 * 1024) + "\n")
    assert huge.returncode == 2
    assert "compose file is larger than the limit of 4194304 bytes" in huge.stderr


def test_tables_honour_columns(tmp_path):
    for columns in ("100", "220"):
        lines = auditor(
            "scan", str(EXAMPLE), "--fail-on", "none", env={"COLUMNS": columns}
        ).stdout.splitlines()
        assert max(len(line) for line in lines) == int(columns)
    default = auditor("scan", str(EXAMPLE), "--fail-on", "none").stdout.splitlines()
    assert max(len(line) for line in default) == 160  # a pipe without COLUMNS


def test_not_checked_is_said_once_for_many_compose_projects(tmp_path):
    for name in ("a", "b", "c", "d"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    out = auditor("scan", str(tmp_path), "--fail-on", "none", env={"COLUMNS": "400"}).stdout
    assert out.count("not checked") == 1
    line = next(ln for ln in out.splitlines() if "not checked" in ln)
    assert line.startswith("not checked for 4 targets (compose a, compose b, compose c and 1 more): daemon ")
