"""Caps that bound memory, not only bytes: a small file of many tiny values must not explode.

Parsed JSON costs up to ~72 bytes per value (an empty dict in a list), so a file well under the
byte cap can still take gigabytes; the value count is bounded before parsing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hardening.harness import record, run_bounded

SHAPES = {
    "list of empty objects": b"[" + b"{}," * 4_000_000 + b"{}]",
    "list of empty lists": b"[" + b"[]," * 4_000_000 + b"[]]",
    "list of floats": b"[" + b"1.5," * 4_000_000 + b"1.5]",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("command", ["scan", "report", "baseline"])
def test_many_tiny_json_values_are_refused(tmp_path: Path, shape: str, command: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(SHAPES[shape])
    if command == "scan":
        argv = ["scan", str(path)]
    elif command == "report":
        argv = ["report", str(path), "-o", str(tmp_path / "r.html")]
    else:
        (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
        argv = ["scan", "--baseline", str(path), str(tmp_path / "compose.yaml")]
    proc = run_bounded(*argv, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "hostile.json: " in lines[0] and "too many values" in lines[0], proc.stderr
    record(
        "memory caps",
        f"{shape} ({path.stat().st_size // 2**20} MiB) as {command} input",
        "exit 2: too many values",
        inputs=1,
    )
