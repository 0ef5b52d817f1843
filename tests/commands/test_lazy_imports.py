"""A compose or saved-JSON scan loads only what it uses: no Docker SDK (with paramiko behind
it), no benchmarks, no HTML templates unless asked, no exposure analysis when there are no
host dumps to analyse. Each costs start-up time on every CI run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "auditor" / "examples" / "demo-snapshot.json"
HEAVY = (
    "docker",
    "paramiko",
    "requests",
    "auditor.benchmarks",
    "auditor.collectors.engine",
    "jinja2",
    "auditor.exposure.analysis",  # with its parsers: only where host dumps are analysed
)

PROBE = """
import json, runpy, sys
sys.argv = ['auditor', *sys.argv[1:]]
try:
    runpy.run_module('auditor', run_name='__main__', alter_sys=True)
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded(*args: str, cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_a_compose_scan_imports_no_docker_sdk_benchmarks_or_store(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n'
    )
    modules = loaded("scan", "-q", "-o", "r.json", "-o", "r.sarif", ".", cwd=tmp_path)
    assert "auditor.collectors.compose" in modules  # the probe saw the scan run
    assert heavy(modules) == []
    # no rule pack declared anywhere: entry points read without importlib.metadata; no engine, no threads
    assert (
        sorted(m for m in modules if m in ("importlib.metadata", "concurrent.futures", "ruamel.yaml")) == []
    )


def test_a_saved_json_scan_imports_no_docker_sdk(tmp_path):
    modules = loaded("scan", "-q", str(EXAMPLE), cwd=tmp_path)
    assert "auditor.collectors.saved" in modules
    assert heavy(modules) == []


def test_the_probe_sees_the_sdk_where_it_is_used(tmp_path):
    assert "docker" in loaded("snapshot", "--help", cwd=tmp_path)


def test_a_live_scan_of_a_socket_engine_imports_the_sdk_without_paramiko(tmp_path):
    engine = tmp_path / "absent.sock"  # nothing listens: the import happens before the first request
    modules = loaded("scan", "-q", "-f", "none", "--engine", f"unix://{engine}", cwd=tmp_path)
    assert "docker" in modules  # the probe saw the engine collector run
    assert sorted(m for m in modules if m.split(".")[0] == "paramiko") == []


FORK_PROBE = """
import json, os, sys
real_fork = os.fork

def fork():
    pid = real_fork()
    if pid:
        print('FORKED ' + json.dumps(sorted(sys.modules)), file=sys.stderr)
    return pid

os.fork = fork
sys.argv = ['auditor', *sys.argv[1:]]
from auditor.cli import main
try:
    main()
except SystemExit:
    pass
"""


def test_a_live_scan_forks_its_host_child_before_it_imports_the_pipeline(tmp_path):
    """The child reads the host beside the imports of the pipeline, the rules and the engine's
    SDK: it is forked before any of them is loaded (they are ~0.2 s of a scan's start), and
    before the analysis it runs, which the child loads itself (off this process's path)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    engine = tmp_path / "absent.sock"
    proc = subprocess.run(
        [sys.executable, "-c", FORK_PROBE, "scan", "-q", "-f", "none", "--engine", f"unix://{engine}"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )  # fmt: skip
    forks = [line for line in proc.stderr.splitlines() if line.startswith("FORKED ")]
    assert len(forks) == 1, proc.stderr  # one engine: one child, forked once
    at_fork = set(json.loads(forks[0].removeprefix("FORKED ")))
    assert "auditor.collectors.ahead" in at_fork
    late = (
        "auditor.exposure.analysis",
        "auditor.exposure.view",
        "auditor.audit.pipeline",
        "auditor.app.scan",
        "auditor.rules",
        "docker",
    )
    assert sorted(m for m in late if m in at_fork) == []
