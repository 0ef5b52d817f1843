"""Helpers of the hardening tests: running the real CLI, and recording figures.

When ``AUDITOR_HARDENING_STATS`` names a file, every test appends what it tried (inputs,
faults injected, outcome) as one JSON line; ``scripts/hardening_figures.py`` turns those
lines into the table in ``docs/hardening.md``. Otherwise recording does nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
LONG_FUZZ = bool(os.environ.get("AUDITOR_FUZZ_EXAMPLES"))
STATS_ENV = "AUDITOR_HARDENING_STATS"
_lock = threading.Lock()


def fuzz_examples(default: int) -> int:
    """How many inputs each fuzzer tries: brief by default, ``AUDITOR_FUZZ_EXAMPLES`` for long runs."""
    text = os.environ.get("AUDITOR_FUZZ_EXAMPLES")
    return int(text) if text and text.isdigit() and int(text) > 0 else default


def fuzz_settings(default: int):
    """Hypothesis settings: ``default`` fixed inputs in the test command, N random ones when
    ``AUDITOR_FUZZ_EXAMPLES=N`` (``scripts/fuzz.sh``)."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=fuzz_examples(default),
        deadline=None,
        derandomize=not LONG_FUZZ,  # the test command always tries the same inputs
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def record(area: str, case: str, outcome: str, inputs: int = 0, faults: int = 0) -> None:
    """Append one line of figures (no-op unless ``AUDITOR_HARDENING_STATS`` is set)."""
    path = os.environ.get(STATS_ENV)
    if not path:
        return
    line = json.dumps({"area": area, "case": case, "inputs": inputs, "faults": faults, "outcome": outcome})
    with _lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, wrapper: tuple[str, ...] = (),
            cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m auditor ARGS`` (behind ``wrapper``, e.g. setpriv); a traceback fails the test."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("AUDITOR_DEBUG", "DOCKER_HOST")}
    full_env.update(env or {})
    proc = subprocess.run(
        [*wrapper, sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd or str(ROOT),
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


HOSTILE_SECONDS = 5.0
HOSTILE_BYTES = 300 * 1024 * 1024


def run_bounded(*args: str, cwd: str | Path, env: dict | None = None, stdin_path: str | None = None,
                seconds: float = HOSTILE_SECONDS, max_rss: int = HOSTILE_BYTES) -> subprocess.CompletedProcess:
    """Run the CLI on hostile input: it must end within ``seconds`` and ``max_rss`` bytes of
    resident memory (read from the child's own rusage), with no traceback and no internal
    error. A hang is killed and fails the test."""
    import tempfile
    import time

    full_env = {k: v for k, v in os.environ.items() if k not in ("AUDITOR_DEBUG", "DOCKER_HOST")}
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "auditor", *args], stdin=stdin, stdout=out, stderr=err,
                                cwd=str(cwd), env=full_env)
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - started > seconds:
                    proc.kill()
                    os.wait4(proc.pid, 0)
                    raise AssertionError(f"auditor {' '.join(args)} did not end within {seconds} s")
                time.sleep(0.02)
        finally:
            if stdin_path:
                stdin.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    rss = usage.ru_maxrss * 1024  # kilobytes on Linux
    assert rss <= max_rss, f"auditor {' '.join(args)} used {rss // 2**20} MiB"
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def tree_state(root: Path) -> dict[str, tuple[int, float]]:
    """Every path below ``root`` with its size and mtime, to prove nothing was written."""
    state = {}
    for path in sorted(root.rglob("*")):
        try:
            info = path.lstat()
        except OSError:
            continue
        state[str(path.relative_to(root))] = (info.st_size, info.st_mtime)
    return state
