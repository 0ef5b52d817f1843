"""The shipped pre-commit hook, run by the real ``pre-commit`` on a throwaway git repository.

The hook's definition is read from ``.pre-commit-hooks.yaml`` and used as a ``repo: local``
hook (nothing is fetched); only ``entry`` points at the auditor installed here and ``language``
says it is already installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
AUDITOR = Path(sys.executable).with_name("auditor")
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
PUBLIC = 'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n'
LOOPBACK = 'services:\n  db:\n    image: postgres:16\n    ports: ["127.0.0.1:5432:5432"]\n'


def shipped_hook() -> dict:
    (hook,) = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return hook


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None or not PRE_COMMIT.exists():
        pytest.fail("git and pre-commit (the test extra) are needed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "audt@example.invalid")
    git(repo, "config", "user.name", "audt")
    hook = shipped_hook()
    local = {**hook, "entry": f"{AUDITOR} scan", "language": "unsupported"}
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    with (repo / ".pre-commit-config.yaml").open("w") as stream:
        YAML(typ="safe").dump(config, stream)
    (repo / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def pre_commit(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), NO_COLOR="1")
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_hook_runs_on_every_file_the_scan_reads():
    hook = shipped_hook()
    assert hook["entry"] == "auditor scan" and hook["args"] == [".", "--fail-on", "high"]
    assert hook["pass_filenames"] is True


def test_hook_fails_on_a_database_published_on_all_interfaces_and_passes_on_loopback(repo, tmp_path):
    (repo / "compose.prod.yaml").write_text(PUBLIC)
    git(repo, "add", "compose.prod.yaml")
    failed = pre_commit(repo, tmp_path)
    assert failed.returncode == 1, failed.stdout
    assert "auditor (docker-compose network audit)" in failed.stdout and "Failed" in failed.stdout
    assert "PORT002" in failed.stdout and "compose.prod.yaml:4" in failed.stdout
    (repo / "compose.prod.yaml").write_text(LOOPBACK)
    git(repo, "add", "compose.prod.yaml")
    passed = pre_commit(repo, tmp_path)
    assert passed.returncode == 0, passed.stdout
    assert "Passed" in passed.stdout


def test_hook_is_skipped_when_no_compose_file_changed(repo, tmp_path):
    (repo / "README").write_text("x")
    git(repo, "add", "README")
    proc = pre_commit(repo, tmp_path)
    assert proc.returncode == 0 and "(no files to check)Skipped" in proc.stdout
