"""The machine-side operations of the lab: namespaces, processes, mounts and cgroups.

Every function here acts only on things it is handed (namespace names, directories, namespace
inodes) and refuses names that are not the lab's, so a bug in a caller cannot reach the
machine's own engine, links or rules.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from .plan import PREFIX, LabError

NETNS_DIR = Path("/var/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CLONE_NEWNET = 0x40000000
MNT_DETACH = 2
T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)


def _check_lab_netns(name: str) -> None:
    if not name.startswith(PREFIX) or "/" in name:
        raise LabError(f"refusing to touch a namespace that is not the lab's: {name!r}")


def netns_path(name: str) -> Path:
    _check_lab_netns(name)
    return NETNS_DIR / name


def ip(*args: str) -> None:
    """Run ``ip ARGS`` (raises ``LabError`` with ip's message)."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {proc.stderr.strip()}")


def add_netns(name: str) -> int:
    """Create a namespace with its loopback up; returns its inode (its identity)."""
    _check_lab_netns(name)
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")
    return os.stat(NETNS_DIR / name).st_ino


def delete_netns(name: str) -> None:
    _check_lab_netns(name)
    if (NETNS_DIR / name).exists():
        ip("netns", "delete", name)


def list_lab_netns() -> list[str]:
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(PREFIX))
    except FileNotFoundError:
        return []


def nsenter_argv(netns: str, argv: Sequence[str]) -> list[str]:
    return ["nsenter", f"--net={netns_path(netns)}", "--", *argv]


def run_in(
    netns: str,
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command in a lab namespace (only the network namespace changes)."""
    proc = subprocess.run(
        nsenter_argv(netns, argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        env={**os.environ, **env} if env else None,
        check=False,
    )
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(argv)} in {netns} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def sysctl_write(netns: str, key: str, value: str) -> None:
    run_in(netns, ["sysctl", "-q", "-w", f"{key}={value}"])


def call_in_netns(netns: str, fn: Callable[[], T]) -> T:
    """Call ``fn`` on a short-lived thread that has joined the lab namespace.

    ``setns`` moves only the calling thread, and sockets stay in the namespace they were made
    in, so the rest of the process is untouched and no subprocess is needed (a probe of a
    dozen ports costs milliseconds, not a Python start-up).
    """
    return _call_in(netns_path(netns), netns, fn)


def call_in_pid_netns(pid: int, fn: Callable[[], T]) -> T:
    """``call_in_netns`` for the network namespace of a process (a lab container's); the
    process must be in a lab namespace's tree, which the caller checked (it asked a lab
    engine for the pid)."""
    path = Path(f"/proc/{pid}/ns/net")
    if netns_inode(pid) is None or netns_inode(os.getpid()) == netns_inode(pid):
        raise LabError(f"process {pid} has no network namespace of its own")
    return _call_in(path, f"pid{pid}", fn)


def _call_in(path: Path, label: str, fn: Callable[[], T]) -> T:
    box: dict[str, object] = {}

    def target() -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({path}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"in-{label}", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


# --- processes -------------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def cmdline(pid: int) -> list[str]:
    raw = _read_text(Path(f"/proc/{pid}/cmdline")) or ""
    return [a for a in raw.split("\0") if a]


def stat_fields(pid: int) -> list[str] | None:
    """``/proc/PID/stat`` after the command name: [state, ppid, ..., starttime at index 19]."""
    text = _read_text(Path(f"/proc/{pid}/stat"))
    if text is None or ")" not in text:
        return None
    return text.rsplit(")", 1)[1].split()


def start_time(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def netns_inode(pid: int) -> int | None:
    try:
        link = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None
    match = re.match(r"net:\[(\d+)\]", link)
    return int(match.group(1)) if match else None


def all_pids() -> list[int]:
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())


def boot_id() -> str:
    return (_read_text(Path("/proc/sys/kernel/random/boot_id")) or "").strip()


def process_alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` runs (and, given ``started``, is still the same process)."""
    fields = stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return started is None or start_time(pid) == started


def _ancestors(pid: int) -> set[int]:
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        fields = stat_fields(pid)
        if fields is None:
            break
        pid = int(fields[1])
    return seen


def lab_processes(netns_inodes: Collection[int], marker: str) -> list[int]:
    """Live processes of a lab: in one of its namespaces, naming its directory, and their
    descendants (container processes under a shim). The caller and its ancestors never count.
    """
    parents: dict[int, int] = {}
    found: set[int] = set()
    for pid in all_pids():
        fields = stat_fields(pid)
        if fields is None or fields[0] in ("Z", "X"):
            continue
        parents[pid] = int(fields[1])
        if netns_inode(pid) in netns_inodes or any(marker in arg for arg in cmdline(pid)):
            found.add(pid)
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted(found - _ancestors(os.getpid()))


def kill_and_wait(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """SIGKILL each process and wait until it is gone; returns those that survived."""
    targets = list(pids)
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    alive = targets
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if process_alive(pid)]
        if alive:
            time.sleep(0.05)
    return alive


# --- mounts and cgroups ------------------------------------------------------------------


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts_under(directory: Path) -> list[str]:
    """Mount points at or below ``directory`` in this mount namespace, deepest first."""
    root = str(directory).rstrip("/")
    points = []
    for line in (_read_text(Path("/proc/self/mountinfo")) or "").splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = _unescape(fields[4])
            if point == root or point.startswith(root + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: (-p.count("/"), p))


def unmount_all(directory: Path) -> list[str]:
    """Detach every mount dockerd left below ``directory`` (overlays, shm, netns files)."""
    failed: list[str] = []
    for _ in range(5):  # stacked mounts on one point come off one per pass
        points = mounts_under(directory)
        if not points:
            return []
        failed = []
        for point in points:
            if _libc.umount2(point.encode(), MNT_DETACH) != 0:
                failed.append(f"{point}: {os.strerror(ctypes.get_errno())}")
    return failed or mounts_under(directory)


def cgroup_dirs(prefix: str) -> list[Path]:
    """Cgroup directories named ``prefix``* at the top of any hierarchy (v1 or v2)."""
    candidates: list[Path] = []
    try:
        tops = [CGROUP_ROOT, *[p for p in CGROUP_ROOT.iterdir() if p.is_dir()]]
    except OSError:
        return []
    for top in tops:
        try:
            candidates += [p for p in top.iterdir() if p.is_dir() and p.name.startswith(prefix)]
        except OSError:
            continue
    return sorted(set(candidates))


def remove_cgroups(prefix: str) -> list[str]:
    """Remove the cgroup trees dockerd made for the lab's containers (leaves first)."""
    if not prefix.startswith(PREFIX):
        raise LabError(f"refusing to remove cgroups not named {PREFIX}*: {prefix!r}")
    failed = []
    for top in cgroup_dirs(prefix):
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except FileNotFoundError:
                pass
            except OSError as exc:
                failed.append(f"{dirpath}: {exc.strerror}")
    return failed
