"""The real ``auditor scan`` command with gate options, on saved inspect files (no engine needed)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from gates.cisupport import assert_valid_sarif, inspect_container, write_inspect

from auditor.commands.scan import scan_command
from auditor.model.severity import Severity

SEVERITIES = [s.label for s in sorted(Severity, reverse=True)]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty repository directory as the current directory (no stray config or waivers)."""
    monkeypatch.chdir(tmp_path)
    write_inspect(
        tmp_path / "inspect.json",
        inspect_container("web", {"80/tcp": "0.0.0.0:8080"}, labels={"com.docker.compose.project": "shop"}),
    )
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(scan_command, list(args), catch_exceptions=False)


def findings(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("finding_severity", SEVERITIES)
@pytest.mark.parametrize("threshold", [*SEVERITIES, "none"])
def test_threshold_at_each_severity(workdir, finding_severity, threshold):
    (workdir / ".auditor.toml").write_text(
        f'enable-rules = ["PORT001"]\n[severity]\nPORT001 = "{finding_severity}"\n', encoding="utf-8"
    )
    result = run("inspect.json", "-f", "json", "--fail-on", threshold)
    (finding,) = findings(result)
    assert finding["severity"] == finding_severity
    fails = threshold != "none" and Severity.parse(finding_severity) >= Severity.parse(threshold)
    assert result.exit_code == (1 if fails else 0), result.stderr


def test_flags_win_over_the_config_file(workdir):
    (workdir / ".auditor.toml").write_text(
        'fail-on = "medium"\nformat = "markdown"\ndisable-rules = ["PORT001"]\n', encoding="utf-8"
    )
    from_config = run("inspect.json")
    assert from_config.exit_code == 0  # PORT001 disabled by the config
    assert from_config.stdout.startswith("### ✅ auditor: PASSED")
    flags = run("inspect.json", "-f", "json", "--disable-rule", "NET001", "--fail-on", "critical")
    assert flags.exit_code == 0
    doc = json.loads(flags.stdout)
    assert doc["gate"]["fail_on"] == "critical"
    assert "PORT001" in doc["scan"]["rules_run"] and "NET001" not in doc["scan"]["rules_run"]
    medium = run("inspect.json", "-f", "json", "--disable-rule", "NET001")
    assert medium.exit_code == 1  # fail-on medium from the config still applies


def test_config_in_pyproject(workdir):
    (workdir / "pyproject.toml").write_text(
        '[tool.auditor]\nfail-on = "medium"\nenable-rules = ["PORT001"]\n', encoding="utf-8"
    )
    result = run("inspect.json", "-f", "json")
    assert result.exit_code == 1
    assert [f["rule_id"] for f in findings(result)] == ["PORT001"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--enable-rule", "PORT001", "--disable-rule", "port001"],
            "rule PORT001 is both enabled and disabled",
        ),
        (["--enable-rule", "NOPE42"], "--enable-rule: unknown rule id 'NOPE42' (see `auditor rules`)"),
        (["--fail-on-new"], "--fail-on-new needs --baseline (a previous JSON result)"),
        (
            ["--fail-on-new", "--baseline", "base.json", "--fail-on", "none"],
            "--fail-on-new has no effect with --fail-on none",
        ),
        (["--waivers", "w.yaml", "--no-waivers"], "--waivers and --no-waivers contradict each other"),
        (["--waivers", "missing.yaml"], "missing.yaml: no such waivers file"),
        (["--baseline", "missing.json"], "missing.json: no such baseline file"),
        (["--baseline", "inspect.json"], "inspect.json: not an auditor JSON result"),
        (["--config", "nope.toml"], "nope.toml: no such config file"),
        (["--fail-on", "severe"], "--fail-on: unknown severity 'severe'"),
    ],
)
def test_conflicting_or_bad_options_exit_2(workdir, args, message):
    (workdir / "w.yaml").write_text("", encoding="utf-8")
    (workdir / "base.json").write_text('{"schema_version": "1.0", "findings": []}', encoding="utf-8")
    result = run("inspect.json", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"auditor: error: {message}")


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (".auditor.toml", 'fail-on = "high"\nfail-on = [\n', ".auditor.toml:2: malformed TOML"),
        (".auditor.toml", '\nfailon = "high"\n', ".auditor.toml:2: unknown setting 'failon'"),
        (
            "pyproject.toml",
            '[project]\nname = "x"\n[tool.auditor]\n\ndisable-rules = ["XX1"]\n',
            "pyproject.toml:5: unknown rule id 'XX1'",
        ),
        (
            ".auditor-waivers.yaml",
            "waivers:\n  - rule: PORT001\n    match: {host: '*'}\n    owner: me\n    expires: 2030-01-01\n",
            ".auditor-waivers.yaml:2: waiver needs a non-empty string 'reason'",
        ),
    ],
)
def test_malformed_files_exit_2_with_file_and_line(workdir, name, text, where):
    (workdir / name).write_text(text, encoding="utf-8")
    result = run("inspect.json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"auditor: error: {where}")
    assert "Traceback" not in result.stderr


def test_waivers_default_file_suppresses_and_expired_waivers_warn(workdir):
    (workdir / ".auditor-waivers.yaml").write_text(
        "waivers:\n"
        "  - rule: PORT001\n    match: {project: shop, port: '80/tcp'}\n    reason: public site\n    owner: web\n    expires: 2999-12-31\n",
        encoding="utf-8",
    )
    ok = run("inspect.json", "-f", "json", "--fail-on", "medium")
    assert ok.exit_code == 0
    (f,) = [f for f in findings(ok) if f["rule_id"] == "PORT001"]
    assert f["status"] == "waived" and f["waiver"]["owner"] == "web"
    assert ok.stderr == ""
    ignored = run("inspect.json", "-f", "json", "--fail-on", "medium", "--no-waivers")
    assert ignored.exit_code == 1

    (workdir / "old.yaml").write_text(
        "- {rule: PORT001, match: {container: 'w*'}, reason: launch week, owner: web, expires: 2001-01-01}\n",
        encoding="utf-8",
    )
    expired = run("inspect.json", "-f", "json", "--fail-on", "medium", "--waivers", "old.yaml")
    assert expired.exit_code == 1
    assert expired.stderr == (
        "auditor: warning: old.yaml:1: waiver for PORT001 (container=w*) owned by web expired on 2001-01-01; "
        "1 finding(s) are open again\n"
    )
    (f,) = [f for f in findings(expired) if f["rule_id"] == "PORT001"]
    assert f["status"] == "open" and f["waiver"]["state"] == "expired"
    assert json.loads(expired.stdout)["policy"]["expired_waivers"] == [
        {
            "rule": "PORT001",
            "match": "container=w*",
            "reason": "launch week",
            "owner": "web",
            "expires": "2001-01-01",
            "source": "old.yaml:1",
            "findings": 1,
        }
    ]
    table = run("inspect.json", "--fail-on", "medium", "--waivers", "old.yaml")
    assert (
        "expired waiver old.yaml:1: PORT001 (container=w*) owned by web expired on 2001-01-01; 1 finding(s) open again"
        in table.stdout
    )
    markdown = run("inspect.json", "-f", "markdown", "--waivers", "old.yaml")
    assert (
        "- PORT001 (container=w\\*), owner web, expired 2001-01-01: launch week. 1 finding(s) back, old.yaml:1"
        in markdown.stdout
    )


def test_baseline_and_fail_on_new(workdir):
    first = run("inspect.json", "-f", "json", "--fail-on", "medium", "-o", "base.json")
    assert first.exit_code == 1
    write_inspect(
        workdir / "inspect.json",
        inspect_container("web", {"80/tcp": "0.0.0.0:8080"}, labels={"com.docker.compose.project": "shop"}),
        inspect_container("db", {"5432/tcp": "0.0.0.0:5432"}),
    )
    second = run(
        "inspect.json", "-f", "json", "--fail-on", "medium", "--baseline", "base.json", "--fail-on-new"
    )
    assert second.exit_code == 1
    states = {(f["rule_id"], f["resource"]["name"]): f["baseline"] for f in findings(second)}
    assert states[("PORT001", "web")] == "existing"
    assert states[("PORT001", "db")] == "new"
    assert {s for (rule, name), s in states.items() if name == "db"} == {"new"}
    gated = json.loads(second.stdout)["gate"]["failing"]
    assert gated == sum(
        1
        for f in findings(second)
        if f["baseline"] == "new" and f["severity"] in ("medium", "high", "critical")
    )
    # the db container goes away again: only existing findings remain, so --fail-on-new passes
    write_inspect(
        workdir / "inspect.json",
        inspect_container("web", {"80/tcp": "0.0.0.0:8080"}, labels={"com.docker.compose.project": "shop"}),
    )
    third = run(
        "inspect.json", "-f", "json", "--fail-on", "medium", "--baseline", "base.json", "--fail-on-new"
    )
    assert third.exit_code == 0
    assert {f["baseline"] for f in findings(third)} == {"existing"}


def test_one_run_writes_every_format(workdir):
    result = run(
        "inspect.json",
        "-f",
        "none",
        "--fail-on",
        "medium",
        "-o",
        "out/a.sarif",
        "-o",
        "out/a.xml",
        "-o",
        "out/a.md",
        "-o",
        "out/gl.codequality.json",
        "-o",
        "out/a.json",
        "-o",
        "codequality:out/cq.txt",
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    out = Path("out")
    sarif = json.loads((out / "a.sarif").read_text())
    assert_valid_sarif(sarif)
    assert ET.fromstring((out / "a.xml").read_bytes()).get("failures")  # noqa: S314 == str(len(json.loads((out / "a.json").read_text())["findings"]))
    assert (out / "a.md").read_text().startswith("### ❌ auditor: FAILED")
    assert json.loads((out / "gl.codequality.json").read_text()) == json.loads((out / "cq.txt").read_text())
    assert (
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "inspect.json"
    )


COMPOSE = 'services:\n  db:\n    image: postgres:16\n    ports:\n      - "5432:5432"\n'


def test_compose_findings_point_at_the_repository_path_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    result = run("deploy", "-f", "sarif", "--fail-on", "high")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert_valid_sarif(doc)
    places = {
        (r["ruleId"], json.dumps(r["locations"][0]["physicalLocation"], sort_keys=True))
        for r in doc["runs"][0]["results"]
    }
    expected = json.dumps(
        {
            "artifactLocation": {"uri": "deploy/compose.yaml", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 5},
        },
        sort_keys=True,
    )
    assert ("PORT002", expected) in places
    assert ("PORT001", expected) not in places  # one finding per port entry: PORT002 names the exposure
