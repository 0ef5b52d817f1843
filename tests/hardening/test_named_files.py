"""Every file an input names is read through one bounded, type-checked reader.

A scanned repository (or a CI job's arguments) can name a FIFO (reading waits forever), a device
(``/dev/zero`` never ends), a directory or a huge file in any place that takes a path: compose
files, ``include`` (and its ``env_file``), ``extends.file``, ``.env`` and ``--env-file``, waivers,
baselines, configs, the inputs of ``report``, ``diff`` and ``--bench``, a fleet's hosts file and
saved JSON. Each combination must end within seconds, in bounded memory, with one error line and
exit 2 — and write nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hardening.harness import record, run_bounded, tree_state

from auditor.collectors.compose.interpolate import parse_env_text
from auditor.model.errors import InputError

SERVICE = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"


def _fifo(root: Path) -> str:
    path = root / "hostile.fifo"
    os.mkfifo(path)
    return str(path)


def _zero(root: Path) -> str:
    link = root / "hostile.zero"
    link.symlink_to("/dev/zero")
    return str(link)


def _directory(root: Path) -> str:
    path = root / "hostile.dir"
    path.mkdir()
    return str(path)


def _huge(root: Path) -> str:
    path = root / "hostile.huge"
    with open(path, "wb") as fh:
        fh.truncate(8 * 1024**3)  # sparse: 8 GiB by size, nothing on disk
    return str(path)


KINDS: dict[str, Callable[[Path], str]] = {
    "FIFO": _fifo,
    "/dev/zero": _zero,
    "directory": _directory,
    "8 GiB file": _huge,
}


def _write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.write_text(text)
    return path


def _compose(root: Path, text: str = SERVICE) -> str:
    return str(_write(root, "compose.yaml", text))


def _include_env_file(root: Path, bad: str) -> list[str]:
    _write(root, "sub.yaml", "services:\n  db:\n    image: postgres\n")
    return ["scan", _compose(root, f"include:\n  - path: sub.yaml\n    env_file: {bad}\n{SERVICE}")]


# Each slot: (root, hostile path) -> argv. The hostile path goes where a repository or a job names a file.
SLOTS: dict[str, Callable[[Path, str], list[str]]] = {
    "compose file argument": lambda root, bad: ["scan", bad],
    "--compose-file": lambda root, bad: ["scan", "--compose-file", bad],
    "include path": lambda root, bad: ["scan", _compose(root, f"include:\n  - {bad}\n{SERVICE}")],
    "include env_file": _include_env_file,
    "extends file": lambda root, bad: [
        "scan",
        _compose(root, f"services:\n  web:\n    extends:\n      file: {bad}\n      service: base\n"),
    ],
    "--env-file": lambda root, bad: ["scan", "--env-file", bad, _compose(root)],
    "--waivers": lambda root, bad: ["scan", "--waivers", bad, _compose(root)],
    "--baseline": lambda root, bad: ["scan", "--baseline", bad, _compose(root)],
    "--config": lambda root, bad: ["scan", "--config", bad, _compose(root)],
    "--bench": lambda root, bad: ["scan", "--bench", bad, _compose(root)],
    "--hosts-file": lambda root, bad: ["scan", "--hosts-file", bad],
    "report input": lambda root, bad: ["report", bad, "-o", str(root / "out.html")],
    "diff input": lambda root, bad: ["diff", bad, bad],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("slot", sorted(SLOTS))
def test_named_file_is_bounded(tmp_path: Path, slot: str, kind: str) -> None:
    bad = KINDS[kind](tmp_path)
    argv = SLOTS[slot](tmp_path, bad)
    before = tree_state(tmp_path)
    started = time.monotonic()
    proc = run_bounded(*argv, cwd=tmp_path)
    seconds = time.monotonic() - started
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("auditor: error: "), proc.stderr
    assert "hostile" in lines[0], lines[0]  # the message names the file at fault
    assert tree_state(tmp_path) == before  # nothing written (no report of a failed input)
    record(
        "named files", f"{kind} as {slot}", f"exit 2 in {seconds:.1f} s: {lines[0].split(': ')[-1]}", inputs=1
    )


@pytest.mark.parametrize("name", [".auditor.toml", "pyproject.toml", ".auditor-waivers.yaml", ".env"])
def test_implicit_file_that_is_a_fifo_is_refused(tmp_path: Path, name: str) -> None:
    """Files picked up by name from the repository are held to the same reader."""
    os.mkfifo(tmp_path / name)
    _write(tmp_path, "compose.yaml", SERVICE)
    proc = run_bounded("scan", "--fail-on", "none", ".", cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert any(name in line and "FIFO" in line for line in lines), proc.stderr


def test_report_from_stdin_is_bounded(tmp_path: Path) -> None:
    proc = run_bounded("report", "-", "-o", str(tmp_path / "out.html"), cwd=tmp_path, stdin_path="/dev/zero")
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr.strip()
        == "auditor: error: stdin: JSON result is larger than the limit of 104857600 bytes"
    )
    assert not (tmp_path / "out.html").exists()


def _characters_scanned(monkeypatch: pytest.MonkeyPatch, text: str) -> int:
    """Characters the .env parser's quote scanner looks at for ``text`` (work, not time: the
    machine's load cannot make this flaky)."""
    from auditor.collectors.compose import interpolate

    real, seen = interpolate._quote_end, [0]

    def counting(part: str, quote: str, escaped: bool) -> tuple[int, bool]:
        seen[0] += len(part)
        return real(part, quote, escaped)

    monkeypatch.setattr(interpolate, "_quote_end", counting)
    try:
        parse_env_text(text, ".env", {})
    except InputError:
        pass
    return seen[0]


def test_env_parser_is_linear_on_an_unclosed_quote(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unclosed quote used to rescan the value for every further line (quadratic)."""
    with pytest.raises(InputError, match="unterminated quoted value for A"):
        parse_env_text('A="open\n' + "x=1\n" * 100, ".env", {})
    small = _characters_scanned(monkeypatch, 'A="open\n' + "x=1\n" * 2_000)
    large = _characters_scanned(monkeypatch, 'A="open\n' + "x=1\n" * 20_000)
    assert small > 2_000 * 3  # every line was looked at
    assert large / small < 11  # 10x the input; quadratic would be ~100x


def test_env_parser_cost_grows_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    def text(n: int) -> str:
        return 'A="open\n' + ("y" * 40 + "\n") * n + '"\n'

    small, large = (
        _characters_scanned(monkeypatch, text(2_000)),
        _characters_scanned(monkeypatch, text(20_000)),
    )
    assert small > 2_000 * 40
    assert large / small < 11
