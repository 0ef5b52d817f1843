"""Resource bounds: hostile files end quickly, in bounded memory, with one clear line and exit 2.

Each case runs the real command line under an address-space limit (``prlimit``) and a
timeout, so a blow-up or a hang fails the test instead of the machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time

import pytest
from hardening.harness import record

MEMORY_LIMIT = 2 * 1024**3  # bytes of address space for one scan
TIMEOUT = 120


def _limited() -> tuple[str, ...]:
    prlimit = shutil.which("prlimit")
    return (prlimit, f"--as={MEMORY_LIMIT}", "--") if prlimit else ()


def _scan(cli, *args: str, expect: int, message: str, case: str, cwd=None):
    started = time.monotonic()
    proc = cli(
        "scan", *args, "-f", "json", "-q", "--fail-on", "none", wrapper=_limited(), timeout=TIMEOUT, cwd=cwd
    )
    seconds = time.monotonic() - started
    assert proc.returncode == expect, proc.stderr
    assert message in proc.stderr if expect == 2 else True, proc.stderr
    if expect == 2:
        lines = proc.stderr.strip().splitlines()
        assert all(line.startswith("auditor: error: ") for line in lines), proc.stderr
    first = proc.stderr.strip().splitlines()[0] if proc.stderr.strip() and expect == 2 else ""
    said = re.sub(r"^auditor: error: (/\S+?: )?", "", first)  # drop the prefix and the temporary path
    record(
        "resource bounds",
        case,
        f"exit {proc.returncode} in {seconds:.1f} s" + (f": {said}" if said else ""),
        inputs=1,
    )
    return proc


def billion_laughs(levels: int = 12, width: int = 10) -> str:
    lines = ['x-a0: &a0 ["lol"]']
    for i in range(1, levels):
        refs = ", ".join(f"*a{i - 1}" for _ in range(width))
        lines.append(f"x-a{i}: &a{i} [{refs}]")
    lines.append(f"services:\n  web:\n    image: busybox\n    labels:\n      bomb: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb(cli, tmp_path):
    f = tmp_path / "compose.yaml"
    f.write_text(billion_laughs())  # 10**11 strings if expanded
    _scan(
        cli,
        str(f),
        expect=2,
        message="document too large after expanding aliases",
        case="YAML alias bomb (10^11 nodes)",
    )


def test_yaml_deep_nesting(cli, tmp_path):
    f = tmp_path / "compose.yaml"
    f.write_text("services: " + "[" * 5000 + "]" * 5000 + "\n")
    _scan(cli, str(f), expect=2, message="nested", case="YAML nested 5,000 deep")


def test_yaml_deep_mappings(cli, tmp_path):
    f = tmp_path / "compose.yaml"
    f.write_text(
        "services:\n  web:\n    labels:\n"
        + "".join("  " * (i + 3) + f"k{i}:\n" for i in range(200))
        + "  " * 203
        + "v: 1\n"
    )
    _scan(cli, str(f), expect=2, message="nested deeper than", case="YAML mappings nested 200 deep")


def test_json_deep_nesting(cli, tmp_path):
    f = tmp_path / "inspect.json"
    f.write_text("[" * 200_000 + "]" * 200_000)
    _scan(cli, str(f), expect=2, message="nested too deeply", case="JSON nested 200,000 deep")


def test_huge_compose_file(cli, tmp_path):
    f = tmp_path / "compose.yaml"
    with f.open("w") as fh:
        fh.write("services:\n  web:\n    image: busybox\n    labels:\n")
        for i in range(250_000):
            fh.write(f"      l{i}: value-{i}\n")
    _scan(
        cli,
        str(f),
        expect=2,
        message="compose file is larger than the limit",
        case=f"compose file of {f.stat().st_size // 2**20} MiB",
    )


def test_huge_json_file(cli, tmp_path):
    f = tmp_path / "inspect.json"
    with f.open("wb") as fh:  # sparse: large on paper, cheap on disk
        fh.write(b"[")
        fh.truncate(300 * 2**20)
    _scan(cli, str(f), expect=2, message="JSON file is larger than the limit", case="JSON file of 300 MiB")


def test_thousands_of_services(cli, tmp_path):
    """Big but legitimate: 3,000 services each publishing a port scan completely."""
    f = tmp_path / "compose.yaml"
    body = "".join(f'  s{i}:\n    image: busybox\n    ports: ["{10000 + i}:80"]\n' for i in range(3000))
    f.write_text("services:\n" + body)
    proc = _scan(cli, str(f), expect=0, message="", case="compose file with 3,000 services")
    assert proc.stderr == ""


def test_symlink_loops_in_scanned_directory(cli, tmp_path):
    """A directory symlinked into itself and a pair of looping file links: the walk ends."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "compose.yaml").write_text('services:\n  web:\n    image: x\n    ports: ["8080:80"]\n')
    os.symlink(root, root / "app" / "loop")
    os.symlink(root / "other" / "compose.yaml", root / "twin")
    (root / "other").mkdir()
    os.symlink(root / "twin", root / "other" / "compose.yaml")
    proc = cli("scan", str(root), "-f", "json", "--fail-on", "none", wrapper=_limited(), timeout=TIMEOUT)
    assert proc.returncode == 2, proc.stderr
    assert "other/compose.yaml" in proc.stderr
    doc = json.loads(proc.stdout)
    complete = [t for t in doc["targets"] if t["status"] == "complete"]
    assert len(complete) == 1
    assert {f["resource"]["name"] for f in doc["findings"]} == {"web"}
    record(
        "resource bounds",
        "symlink loops in a scanned directory",
        "exit 2: the loop is named, the rest scanned",
        inputs=1,
    )


def test_fifo_is_refused_not_waited_on(cli, tmp_path):
    for name in ("inspect.json", "compose.yaml"):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        _scan(cli, str(fifo), expect=2, message="not a regular file", case=f"a FIFO named {name}")


def test_device_behind_json_name_is_refused(cli, tmp_path):
    link = tmp_path / "zero.json"
    os.symlink("/dev/zero", link)
    _scan(cli, str(link), expect=2, message="not a regular file", case="/dev/zero behind a .json name")


@pytest.mark.parametrize("option", ["--waivers", "--config", "--baseline", "--hosts-file"])
def test_endless_side_files_are_refused(cli, tmp_path, option):
    link = tmp_path / "side-file"
    os.symlink("/dev/zero", link)
    snap = os.path.join(os.path.dirname(__file__), "corpus", "saved_json", "networks.json")
    _scan(cli, snap, option, str(link), expect=2, message="", case=f"{option} /dev/zero")


def test_unreadable_file(cli, tmp_path):
    """A file only its owner may read, scanned by root without CAP_DAC_OVERRIDE."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and util-linux setpriv")
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  web:\n    image: x\n")
    os.chown(f, 65534, -1)
    f.chmod(0o600)
    proc = cli(
        "scan",
        str(f),
        "-f",
        "json",
        "-q",
        wrapper=(setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"),
    )
    assert proc.returncode == 2, proc.stderr
    assert "is not readable" in proc.stderr
    record("resource bounds", "unreadable compose file", "exit 2: path is not readable", inputs=1)


def test_unreadable_directory_inside_scanned_tree(cli, tmp_path):
    """A subdirectory nobody may list: the readable projects are still scanned."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and util-linux setpriv")
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "compose.yaml").write_text('services:\n  web:\n    image: x\n    ports: ["8080:80"]\n')
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "compose.yaml").write_text("services: {}\n")
    os.chown(locked, 65534, -1)
    locked.chmod(0o700)
    proc = cli(
        "scan",
        str(tmp_path),
        "-f",
        "json",
        "--fail-on",
        "none",
        wrapper=(setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"),
    )
    doc = json.loads(proc.stdout)
    assert proc.returncode in (0, 2), proc.stderr
    assert {f["resource"]["name"] for f in doc["findings"]} == {"web"}
    record(
        "resource bounds",
        "unlistable directory in a scanned tree",
        f"exit {proc.returncode}, readable projects scanned",
        inputs=1,
    )
