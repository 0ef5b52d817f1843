"""The three CI integrations: each file parses, names real options and files, and its command,
run through the real scan command on a small repository, produces what the CI system reads."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from auditor.reports.formats import SCAN, registry
from click.testing import CliRunner
from ruamel.yaml import YAML

from auditor.commands.scan import scan_command

ROOT = Path(__file__).resolve().parents[2]
RISKY = (
    'services:\n  db:\n    image: postgres:16\n    ports:\n      - "5432:5432"\n'
    '  web:\n    image: nginx:1\n    ports:\n      - "8080:80"\n'
)
SAFE = 'services:\n  db:\n    image: postgres:16\n    ports:\n      - "127.0.0.1:5432:5432"\n'


def load(path: Path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def scan_args(command: str) -> list[str]:
    """The arguments after ``auditor scan`` in a shell line."""
    words = shlex.split(command)
    assert words[:2] == ["auditor", "scan"], command
    return words[2:]


def outputs_of(args: list[str]) -> dict[str, str]:
    """format -> path for every ``-o`` in the arguments."""
    files = tuple(args[i + 1] for i, a in enumerate(args) if a == "-o")
    return {fmt: path for fmt, path in registry().plan(files, SCAN)}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text(RISKY, encoding="utf-8")
    return tmp_path


def run(args: list[str]):
    return CliRunner().invoke(scan_command, args, catch_exceptions=False)


def test_pre_commit_hook(repo):
    (hook,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "auditor-compose"
    assert hook["language"] == "python"
    program, *entry_args = hook["entry"].split()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert program in scripts
    assert entry_args == ["scan"]
    files = re.compile(hook["files"])
    for name in (
        "compose.yaml",
        "docker-compose.yml",
        "deploy/compose.prod.yaml",
        "docker-compose.override.yml",
    ):
        assert files.search(name), name
    for name in ("README.md", "compose.txt", "mycompose.yaml.bak", "src/compose.py"):
        assert not files.search(name), name
    assert run(hook["args"]).exit_code == 1  # the commit is blocked
    (repo / "compose.yaml").write_text(SAFE, encoding="utf-8")
    assert run(hook["args"]).exit_code == 0


def test_github_actions_workflow_uses_the_action_with_inputs_it_has():
    """The action itself (scan, SARIF upload, summary, gate) is run in tests/integration/test_action.py."""
    workflow = load(ROOT / "examples" / "ci" / "github-actions.yml")
    action = load(ROOT / "action.yml")
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["audit"]["steps"]
    (step,) = [s for s in steps if s.get("uses") == "OWNER/REPO@REF"]
    assert set(step["with"]) <= set(action["inputs"])
    assert step["with"] == {"paths": ".", "fail-on": "high"}
    (upload,) = [
        s
        for s in action["runs"]["steps"]
        if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    ]
    assert upload["if"].startswith("${{ always() && ")


def test_gitlab_job_publishes_junit_and_code_quality(repo):
    job = load(ROOT / "examples" / "ci" / "gitlab-ci.yml")["auditor"]
    (line,) = [s for s in job["script"] if s.startswith("auditor scan")]
    args = scan_args(line)
    outputs = outputs_of(args)
    reports = job["artifacts"]["reports"]
    assert reports["junit"] == outputs["junit"]
    assert reports["codequality"] == outputs["codequality"]
    assert job["artifacts"]["when"] == "always"
    result = run(args)
    assert result.exit_code == 1
    junit = ET.fromstring((repo / outputs["junit"]).read_bytes())  # noqa: S314 - our own output
    issues = json.loads((repo / outputs["codequality"]).read_text(encoding="utf-8"))
    assert int(junit.get("failures")) == len(issues) >= 2
    assert {i["location"]["path"] for i in issues} == {"compose.yaml"}
    # NET009 on the default network (line 1), PORT002 on 5432, PORT001 on 8080
    assert {i["location"]["lines"]["begin"] for i in issues} == {1, 5, 9}
