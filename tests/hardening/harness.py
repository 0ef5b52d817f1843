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


def run_cli(
    *args: str,
    env: dict | None = None,
    timeout: float = 120,
    wrapper: tuple[str, ...] = (),
    cwd: str | None = None,
) -> subprocess.CompletedProcess:
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


# The bounds are those of an idle machine, this one at its usual speed. A shared VM has slow
# phases (CPU stolen by the hypervisor, caches shared with neighbours) in which the same work
# takes twice the CPU and wall time: the bounds then stretch by the slowdown measured on a fixed
# piece of work (``_REFERENCE_SECONDS`` of it here, idle), never shrink below themselves. A
# blow-up (a quadratic rule, an unbounded read: tens of times the bound) still fails, and a
# hang uses no CPU and is still cut off.
_REFERENCE_SECONDS = 0.050
_SAMPLE_EVERY = 20.0  # seconds: speed changes by phase, not by the millisecond
_speed: dict[str, float] = {}


def _reference_work() -> int:
    """Dict, string and sort work, as the CLI does on a large input."""
    table = {}
    for i in range(40_000):
        table[str(i)] = (i, str(i * 7))
    return len(sorted(table.items(), key=lambda item: item[1][1]))


def slowdown(fresh: bool = False) -> tuple[float, float]:
    """How much slower than the reference (CPU, wall) the machine runs now, each at least 1:
    the best of three runs of the reference work, measured again every ``_SAMPLE_EVERY`` s
    (or when ``fresh``: a case over its bound asks whether the machine slowed down meanwhile)."""
    import time

    if fresh or time.monotonic() - _speed.get("at", -_SAMPLE_EVERY) >= _SAMPLE_EVERY:
        cpu = wall = float("inf")
        for _ in range(3):
            started, used = time.perf_counter(), time.process_time()
            _reference_work()
            wall = min(wall, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - used)
        _speed.update(at=time.monotonic(), cpu=cpu, wall=wall)
    return (
        max(1.0, _speed["cpu"] / _REFERENCE_SECONDS),
        max(1.0, _speed["wall"] / _REFERENCE_SECONDS),
    )


def _wall_allowance(seconds: float, fresh: bool = False) -> float:
    """Wall-clock time a case may take: ``seconds`` on an idle machine at its usual speed,
    stretched by the measured slowdown and by the load average when other runs share the cores."""
    cpus = os.cpu_count() or 1
    return seconds * slowdown(fresh)[1] * max(1.0, os.getloadavg()[0] / cpus)


def _cpu_allowance(seconds: float, fresh: bool = False) -> float:
    """CPU time a case may use: ``seconds``, stretched by the measured slowdown of the CPU."""
    return seconds * slowdown(fresh)[0]


# The CLI as the bounded runners start it: ``python -m auditor`` that reports its own peak
# memory at exit. The kernel's rusage cannot: a child's ru_maxrss keeps the high-water mark of
# the process it was forked from (a pytest grown to 340 MB made every case "use" 340 MB), while
# VmHWM belongs to the program's own address space.
_CHILD = """
import atexit, os, runpy, sys

def _peak():
    with open("/proc/self/status") as status, open(os.environ["AUDITOR_TEST_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(_peak)
sys.argv[0] = "auditor"
runpy.run_module("auditor", run_name="__main__", alter_sys=True)
"""


def _command(args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-c", _CHILD, *args]


def _peak_of(pid: int) -> int:
    """The running child's VmHWM in kilobytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
    except (OSError, StopIteration, ValueError):
        return 0


def _wait_bounded(proc: subprocess.Popen, args: tuple[str, ...], seconds: float, pump=None):
    """Wait for ``proc`` (calling ``pump`` meanwhile, e.g. to drain a terminal); kill it past
    the wall-clock allowance. Returns the exit status, the child's rusage, and the highest
    VmHWM seen while it ran (kilobytes)."""
    import time

    started = time.monotonic()
    allowed = _wall_allowance(seconds)
    peak = 0
    while True:
        peak = max(peak, _peak_of(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, usage, peak
        if time.monotonic() - started > allowed:
            allowed = max(allowed, _wall_allowance(seconds, fresh=True))  # slower or busier meanwhile?
            if time.monotonic() - started > allowed:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise AssertionError(f"auditor {' '.join(args)} did not end within {allowed:.1f} s")
        if pump is not None:
            pump(0.02)
        else:
            time.sleep(0.02)


def _check_bounds(args: tuple[str, ...], usage, rss: int, seconds: float, max_rss: int, stderr: str) -> None:
    cpu = usage.ru_utime + usage.ru_stime
    if cpu > seconds:
        allowed = max(_cpu_allowance(seconds), _cpu_allowance(seconds, fresh=True))
        assert cpu <= allowed, f"auditor {' '.join(args)} used {cpu:.1f} s of CPU (allowed {allowed:.1f} s)"
    assert rss <= max_rss, f"auditor {' '.join(args)} used {rss // 2**20} MiB"
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr


def _completed(
    proc: subprocess.Popen, stdout: str, stderr: str, usage, rss: int
) -> subprocess.CompletedProcess:
    """The outcome, with the child's CPU seconds (``cpu``) and peak resident bytes (``rss``)."""
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    done.cpu = usage.ru_utime + usage.ru_stime  # type: ignore[attr-defined]
    done.rss = rss  # type: ignore[attr-defined]
    return done


def _peak_bytes(peak_file: str, polled_kb: int) -> int:
    """The child's own report of its peak, else the highest value polled while it ran."""
    try:
        with open(peak_file) as fh:
            return max(int(fh.read().strip() or 0), polled_kb) * 1024
    except (OSError, ValueError):
        return polled_kb * 1024


def _env(env: dict | None, peak_file: str) -> dict:
    full_env = {k: v for k, v in os.environ.items() if k not in ("AUDITOR_DEBUG", "DOCKER_HOST")}
    full_env.update(env or {})
    full_env["AUDITOR_TEST_PEAK_FILE"] = peak_file
    return full_env


def run_bounded(
    *args: str,
    cwd: str | Path,
    env: dict | None = None,
    stdin_path: str | None = None,
    seconds: float = HOSTILE_SECONDS,
    max_rss: int = HOSTILE_BYTES,
) -> subprocess.CompletedProcess:
    """Run the CLI on hostile input: it must end within ``seconds`` of CPU time (its rusage;
    more only while the machine is measurably slower: ``slowdown``) and ``max_rss`` bytes of
    resident memory (its own VmHWM), with no traceback and no internal error. Wall-clock time
    is bounded too (``_wall_allowance``): a hang is killed and fails the test."""
    import tempfile

    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(prefix="auditor-peak-") as peak_file,
    ):
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(
            _command(args), stdin=stdin, stdout=out, stderr=err, cwd=str(cwd), env=_env(env, peak_file.name)
        )
        try:
            status, usage, polled = _wait_bounded(proc, args, seconds)
        finally:
            if stdin_path:
                stdin.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        rss = _peak_bytes(peak_file.name, polled)
    _check_bounds(args, usage, rss, seconds, max_rss, stderr)
    return _completed(proc, stdout, stderr, usage, rss)


def run_on_terminal(
    *args: str,
    cwd: str | Path,
    env: dict | None = None,
    columns: int = 160,
    seconds: float = HOSTILE_SECONDS,
    max_rss: int = HOSTILE_BYTES,
) -> subprocess.CompletedProcess:
    """``run_bounded`` with stdout and stderr each on a terminal of its own (a pty), as a
    person at a shell sees them; the bytes are returned undecoded-then-decoded as written."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    masters, slaves = [], []
    for _ in range(2):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        masters.append(master)
        slaves.append(slave)
    chunks: dict[int, list[bytes]] = {m: [] for m in masters}
    open_masters = set(masters)

    def pump(timeout: float) -> None:
        ready, _, _ = select.select(list(open_masters), [], [], timeout) if open_masters else ([], [], [])
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its end
                data = b""
            if data:
                chunks[fd].append(data)
            else:
                open_masters.discard(fd)

    import tempfile

    try:
        with tempfile.NamedTemporaryFile(prefix="auditor-peak-") as peak_file:
            proc = subprocess.Popen(
                _command(args),
                stdin=subprocess.DEVNULL,
                stdout=slaves[0],
                stderr=slaves[1],
                cwd=str(cwd),
                env=_env(env, peak_file.name),
                close_fds=True,
            )
            for slave in slaves:
                os.close(slave)
            slaves = []
            status, usage, polled = _wait_bounded(proc, args, seconds, pump)
            while open_masters:
                pump(0.2)
            rss = _peak_bytes(peak_file.name, polled)
    finally:
        for fd in slaves + masters:
            try:
                os.close(fd)
            except OSError:
                pass
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = (b"".join(chunks[m]).decode(errors="replace") for m in masters)
    _check_bounds(args, usage, rss, seconds, max_rss, stderr)
    return _completed(proc, stdout, stderr, usage, rss)


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
