"""Reading processes and sockets from /proc: CPU time, descendants, listeners, docker-proxy."""

from __future__ import annotations

import os
import socket

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # comm (field 2) may hold spaces; everything after the last ')' is space-separated
    head, _, tail = text.rpartition(")")
    comm = head.partition("(")[2]
    return [str(pid), comm, *tail.split()]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a whole process (all threads), or None if it is gone."""
    fields = _stat_fields(pid)
    if not fields:
        return None
    return (int(fields[13]) + int(fields[14])) / TICKS


def comm(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[1] if fields else None


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible in /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields:
            out.setdefault(int(fields[3]), []).append(int(entry))
    return out


def descendants(pid: int) -> list[int]:
    kids = children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in kids.get(current, []):
            found.append(child)
            todo.append(child)
    return found


def find_descendant(pid: int, name: str) -> int | None:
    """The first process below ``pid`` whose command name is ``name`` (e.g. 'iperf3')."""
    for child in descendants(pid):
        if comm(child) == name:
            return child
    return None


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [part.decode(errors="replace") for part in fh.read().split(b"\0") if part]
    except OSError:
        return []


def netns_inode(pid: int | str) -> int | None:
    """The inode of the network namespace of ``pid`` (``"self"`` for this process)."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def docker_proxy_pid(host_ip: str, host_port: int, proto: str = "tcp") -> int | None:
    """The userland proxy process that serves ``host_ip:host_port`` in this network namespace.

    Only proxies in the benchmark's own namespace count: another engine on the machine (in a
    namespace of its own) may run a proxy for the same address and port.
    """
    ours = netns_inode("self")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        args = cmdline(int(entry))
        if not args or not args[0].endswith("docker-proxy") or netns_inode(entry) != ours:
            continue
        pairs = dict(zip(args[1::2], args[2::2], strict=False))
        if (
            pairs.get("-host-ip") == host_ip
            and pairs.get("-host-port") == str(host_port)
            and pairs.get("-proto", "tcp") == proto
        ):
            return int(entry)
    return None


def listening(pid: int, port: int) -> bool:
    """True when a TCP socket listens on ``port`` in the network namespace of ``pid``."""
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}", encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    parts = line.split()
                    if len(parts) > 3 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            continue
    return False


def free_port() -> int:
    """A TCP port that is free on the host right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def environ_has(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return marker in fh.read().split(b"\0")
    except OSError:
        return False
