"""``auditor exposure``: the matrix of a snapshot that carries host dumps, from a dump directory,
and an honest exit code when a target's firewall was not read."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from support.exposure_fixtures import FIXTURES
from support.scan_fixtures import raw_of

from auditor.collectors.raw import dumps


def auditor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, check=False)  # fmt: skip


def saved(tmp_path: Path, with_dumps: bool = True) -> Path:
    raw = raw_of("default")
    path = tmp_path / "engine.json"
    path.write_text(dumps(raw if with_dumps else replace(raw, dumps=None)))
    return path


def test_the_table_has_a_row_per_container_port_and_a_column_per_zone(tmp_path):
    proc = auditor("exposure", str(saved(tmp_path)), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("CONTAINER"))
    assert header.split() == ["CONTAINER", "PORT", "PUBLISHED", "lan:eth0", "internet:eth0", "host",
                              "network:appnet", "network:bridge", "network:othernet"]  # fmt: skip
    cache = next(line for line in lines if line.startswith("cache "))
    assert cache.split() == ["cache", "6379/tcp", "(not", "published)", "open", "blocked", "open", "open", "blocked",
                             "blocked"]  # fmt: skip
    at = lines.index("  cache 6379/tcp from lan:eth0 (open, direct 198.18.32.3:6379):")
    assert lines[at + 1].startswith(
        "    route forward via br-24787d536495 -> filter FORWARD rule 1 -> DOCKER-USER"
    )
    assert lines[at + 1].endswith("-> FORWARD policy ACCEPT")


def test_json_is_the_scan_result_exposure_key(tmp_path):
    path = saved(tmp_path)
    proc = auditor("exposure", str(path), "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    scan = json.loads(auditor("scan", str(path), "-f", "json", "--fail-on", "none", cwd=tmp_path).stdout)
    assert doc == scan["exposure"]
    assert doc["schema_version"] == "1.0" and [t["target"] for t in doc["targets"]] == ["default"]


def test_a_snapshot_without_dumps_is_analysed_with_a_dump_directory_or_said_not_analysed(tmp_path):
    path = saved(tmp_path, with_dumps=False)
    proc = auditor("exposure", str(path), cwd=tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "auditor: default: exposure not analysed: the firewall and network of its daemon"
    )
    proc = auditor("exposure", str(path), "--dumps", str(FIXTURES / "default"), "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with_dir = json.loads(proc.stdout)
    assert with_dir == json.loads(
        auditor("exposure", str(saved(tmp_path)), "-f", "json", cwd=tmp_path).stdout
    )
