"""CI formats point at files relative to the repository root, wherever the scan runs from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from auditor.app.scan import repository_root

COMPOSE = 'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n'


def auditor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "services" / "db").mkdir(parents=True)
    (repo / "services" / "db" / "compose.yaml").write_text(COMPOSE)
    (repo / "docs").mkdir()
    (repo / ".git").mkdir()  # enough for the root to be found: no git command runs
    return repo


def sarif_places(proc: subprocess.CompletedProcess) -> tuple[list[tuple[str, str | None, int]], dict]:
    assert proc.returncode == 1, proc.stderr
    run = json.loads(proc.stdout)["runs"][0]
    found = [
        (loc["artifactLocation"]["uri"], loc["artifactLocation"].get("uriBaseId"), loc["region"]["startLine"])
        for r in run["results"]
        for loc in (r["locations"][0]["physicalLocation"],)
    ]
    return found, run["originalUriBaseIds"]


def test_sarif_uris_are_the_same_from_the_root_a_subdirectory_and_outside(tmp_path):
    repo = make_repo(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    runs = {
        "root": auditor("scan", "services", "-f", "sarif", cwd=repo),
        "subdirectory": auditor("scan", "..", "-f", "sarif", cwd=repo / "docs"),
        "deeper": auditor("scan", ".", "-f", "sarif", cwd=repo / "services" / "db"),
        "outside": auditor("scan", str(repo / "services"), "-f", "sarif", cwd=outside),
        "a file": auditor("scan", "compose.yaml", "-f", "sarif", cwd=repo / "services" / "db"),
    }
    expected = [("services/db/compose.yaml", "%SRCROOT%", 4)]  # PORT002 (PORT001 folded into it)
    for name, proc in runs.items():
        found, bases = sarif_places(proc)
        assert found == expected, name
        assert bases == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}, name


def test_junit_codequality_and_markdown_use_the_same_paths(tmp_path):
    repo = make_repo(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    proc = auditor(
        "scan",
        str(repo),
        "-f",
        "none",
        "-o",
        "out.xml",
        "-o",
        "gl.codequality.json",
        "-o",
        "out.md",
        cwd=outside,
    )
    assert proc.returncode == 1, proc.stderr
    cases = ET.parse(outside / "out.xml").getroot().iter("testcase")  # noqa: S314 - our own output
    assert {c.get("file") for c in cases if c.find("failure") is not None} == {"services/db/compose.yaml"}
    issues = json.loads((outside / "gl.codequality.json").read_text())
    assert {i["location"]["path"] for i in issues} == {"services/db/compose.yaml"}
    assert "services/db/compose.yaml:4" in (outside / "out.md").read_text()


def test_repo_root_option_wins(tmp_path):
    repo = make_repo(tmp_path)
    found, bases = sarif_places(auditor("scan", ".", "-f", "sarif", "--repo-root", "services", cwd=repo))
    assert found == [("db/compose.yaml", "%SRCROOT%", 4)]
    assert bases["%SRCROOT%"]["uri"] == (repo / "services").resolve().as_uri() + "/"


def test_a_file_outside_the_repository_is_an_absolute_uri_without_base(tmp_path):
    repo = make_repo(tmp_path)
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "compose.yaml").write_text(COMPOSE)
    proc = auditor("scan", str(repo / "services"), str(lone), "-f", "sarif", cwd=repo)
    found, _ = sarif_places(proc)
    assert sorted(set(found)) == [
        ((lone / "compose.yaml").resolve().as_uri(), None, 4),
        ("services/db/compose.yaml", "%SRCROOT%", 4),
    ]


def test_repository_root_finds_git_dirs_and_worktree_files(tmp_path):
    repo = make_repo(tmp_path)
    assert repository_root(["services/db"], cwd=repo) == repo.resolve()
    assert repository_root([], cwd=repo / "docs") == repo.resolve()
    worktree = tmp_path / "wt"
    (worktree / "a").mkdir(parents=True)
    (worktree / ".git").write_text("gitdir: /somewhere/.git/worktrees/wt\n")
    assert repository_root([str(worktree / "a")], cwd=tmp_path) == worktree.resolve()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert repository_root([], cwd=plain) == plain.resolve()
