"""``-o``: ``-`` is stdout, a symlink is written through, a regular file is replaced atomically,
and nothing else in the directory changes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.commands.common import write_text_atomically
from auditor.model.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "auditor" / "examples" / "demo-snapshot.json"


def auditor(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        input=stdin,
        timeout=120,
    )


def listing(directory: Path) -> dict[str, tuple[str, int]]:
    """Every entry: its kind and inode, so a replaced file or a new temp file shows."""
    out = {}
    for entry in os.scandir(directory):
        info = entry.stat(follow_symlinks=False)
        kind = "link" if stat.S_ISLNK(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "other"
        out[entry.name] = (kind, info.st_ino)
    return out


def test_dash_writes_the_format_to_stdout_and_nothing_else(tmp_path):
    proc = auditor("scan", str(EXAMPLE), "--fail-on", "none", "-o", "json:-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tool"]["name"] == "auditor"  # JSON alone: no table around it
    assert list(tmp_path.iterdir()) == []
    bare = auditor("scan", str(EXAMPLE), "--fail-on", "none", "-f", "sarif", "-o", "-", cwd=tmp_path)
    assert json.loads(bare.stdout)["version"] == "2.1.0"
    assert list(tmp_path.iterdir()) == []


def test_two_outputs_cannot_share_stdout(tmp_path):
    proc = auditor("scan", str(EXAMPLE), "-o", "json:-", "-o", "sarif:-", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "auditor: error: only one output can go to stdout ('-'), got json, sarif\n"


def test_a_symlink_is_written_through_and_nothing_else_changes(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    real = reports / "real.json"
    real.write_text("old")
    (reports / "other.txt").write_text("keep")
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    (link_dir / "scan.json").symlink_to(real)
    before_links, before_reports = listing(link_dir), listing(reports)
    proc = auditor(
        "scan",
        str(EXAMPLE),
        "--fail-on",
        "none",
        "-f",
        "none",
        "-o",
        str(link_dir / "scan.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert listing(link_dir) == before_links  # still the same link
    assert listing(reports) == before_reports  # same inode: written in place, no temp file left
    assert os.readlink(link_dir / "scan.json") == str(real)
    assert json.loads(real.read_text())["schema_version"] == "1.0"
    assert (reports / "other.txt").read_text() == "keep"


def test_a_regular_file_is_replaced_atomically_keeping_its_mode(tmp_path):
    out = tmp_path / "scan.json"
    out.write_text("old")
    out.chmod(0o640)
    (tmp_path / "neighbour").write_text("n")
    inode = out.stat().st_ino
    write_text_atomically(str(out), "new")
    assert out.read_text() == "new"
    assert out.stat().st_ino != inode  # renamed over: a reader never sees half a report
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neighbour", "scan.json"]


def test_a_device_is_written_in_place_never_replaced(tmp_path):
    null = Path("/dev/null")
    before = null.stat()
    write_text_atomically(str(null), "discarded")
    after = null.stat()
    assert (after.st_ino, stat.S_ISCHR(after.st_mode)) == (before.st_ino, True)


def test_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    write_text_atomically(str(fifo), "through the pipe")
    assert reader.communicate(timeout=30)[0] == "through the pipe"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unwritable_output_is_one_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot write output: Is a directory"):
        write_text_atomically(str(tmp_path), "x")
