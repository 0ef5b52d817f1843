"""End to end: ``auditor scan DIR`` on compose files points every finding at the exact line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "compose"
CHECKED_RULES = {"PORT001", "PORT002", "NET001", "NET003", "HOST002"}


def scan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", "scan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")},
        timeout=120,
    )


def located(report: dict) -> set[tuple[str, str, str | None, str, int | None]]:
    return {
        (
            f["rule_id"],
            f["resource"]["name"],
            f["resource"]["project"],
            f["location"]["uri"],
            f["location"]["line"],
        )
        for f in report["findings"]
        if f["rule_id"] in CHECKED_RULES
    }


def test_directory_scan_points_at_file_and_line() -> None:
    proc = scan("tests/fixtures/compose/repo", "-f", "json", "--fail-on", "none", cwd=FIXTURES.parents[2])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(t["kind"], t["name"], t["address"], t["status"]) for t in report["targets"]] == [
        ("compose", "shop", "shop/compose.yaml", "complete"),
        ("compose", "tools", "tools/docker-compose.yml", "complete"),
    ]
    # db (postgres) and legacy (Redis's port) are PORT002's: one finding per port entry
    assert located(report) == {
        ("PORT001", "web", "shop", "shop/compose.yaml", 7),
        ("PORT002", "db", "shop", "shop/compose.yaml", 20),
        ("HOST002", "portainer", "shop", "shop/compose.yaml", 26),
        ("NET003", "debug", "shop", "shop/compose.override.yaml", 9),
        ("NET003", "metrics", "tools", "tools/docker-compose.yml", 4),
        ("NET001", "legacy", "tools", "tools/docker-compose.yml", 7),
        ("PORT002", "legacy", "tools", "tools/docker-compose.yml", 9),
    }
    by_key = {(f["rule_id"], f["resource"]["name"]): f for f in report["findings"]}
    # example/legacy on 6379: Redis's port, but the image does not say Redis: weak evidence
    assert by_key[("PORT002", "legacy")]["severity"] == "medium"
    assert by_key[("PORT002", "legacy")]["evidence"]["identified_by"] == "port"
    assert by_key[("PORT002", "legacy")]["location"]["source"] == "compose"
    assert by_key[("PORT001", "web")]["resource"]["kind"] == "service"
    assert "s3cr3t-value" not in proc.stdout  # credential-looking labels are redacted


def test_profile_narrows_the_audit() -> None:
    proc = scan(
        "repo/shop/compose.yaml", "--profile", "nothing", "-f", "json", "--fail-on", "none", cwd=FIXTURES
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["targets"][0]["address"] == "repo/shop/compose.yaml"
    assert report["targets"][0]["containers"] == 4  # a file argument loads no override file


def test_invalid_file_exits_2_and_the_others_are_still_scanned() -> None:
    proc = scan("mixed", "-f", "json", "--fail-on", "none", cwd=FIXTURES)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "auditor: error: bad/compose.yaml:6: service app: invalid ranges: container 80-81 and host 8000 differ "
        "in length in '8000:80-81'"
    ]
    report = json.loads(proc.stdout)
    assert [(t["address"], t["status"]) for t in report["targets"]] == [
        ("bad/compose.yaml", "failed"),
        ("good/compose.yaml", "complete"),
    ]
    assert report["scan"]["complete"] is False
    assert ("PORT002", "cache", "good", "good/compose.yaml", 4) in located(report)


def test_hostile_input_never_shows_a_traceback(tmp_path: Path) -> None:
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    cases = {
        "bomb": "\n".join(bomb) + "\nservices: {}\n",
        "binary": "\x00\x01\x02services",
        "tabs": "services:\n\ts: {}\n",
        "types": "services:\n  s:\n    image: x\n    ports: {a: b}\n",
        "missing": "services:\n  s:\n    image: ${IMAGE:?IMAGE is required}\n",
    }
    for name, text in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(text)
    proc = scan(".", "-q", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = sorted(proc.stderr.strip().splitlines())
    assert len(lines) == len(cases)
    assert lines[0].startswith("auditor: error: binary/compose.yaml")
    assert "bomb/compose.yaml: document too large after expanding aliases" in lines[1]
    assert lines[2].startswith("auditor: error: tabs/compose.yaml:2: YAML syntax error")
    assert lines[3] == "auditor: error: types/compose.yaml:4: service s ports must be a list"
    # a missing required variable: audited with "" and marked incomplete, as a fragment is
    assert (
        lines[4]
        == "auditor: incomplete: missing/compose.yaml:3: required variable IMAGE is missing a value: IMAGE is required"
    )


def test_two_services_claiming_one_host_port_point_at_both_lines(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        'services:\n  a:\n    image: x\n    ports: ["127.0.0.1:${PORT}:80"]\n  b:\n    image: y\n    ports:\n'
        "      - target: 81\n        published: 8080\n        host_ip: 127.0.0.1\n"
    )
    (tmp_path / "ci.env").write_text("PORT=8080\n")
    proc = scan(".", "--env-file", "ci.env", "-f", "json", "--fail-on", "none", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    clashes = {
        (f["resource"]["name"], f["location"]["uri"], f["location"]["line"])
        for f in report["findings"]
        if f["rule_id"] == "PORT007"
    }
    assert clashes == {("a", "compose.yaml", 4), ("b", "compose.yaml", 8)}
