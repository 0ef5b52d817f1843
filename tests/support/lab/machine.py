"""The machine's own state, to prove a lab leaves it exactly as it found it.

``capture()`` reads what a lab could disturb in the machine's namespace: ``ip netns``, the links
of the machine's namespace, the Docker-family processes, ``iptables-save`` and
``ip6tables-save``, the mounts and cgroups with the lab's names. ``differences()`` compares two
captures exactly, except for what *other* test sessions legitimately change meanwhile on the
machine's engine (its veths and bridges, the rules for its containers, its shims and
docker-proxies), for other live labs and for namespaces named after another live process;
all are recognised by name or address, and nothing a lab makes can look like them (a lab
creates no link in the machine's namespace at all, its namespaces carry its owner's pid, and
its addresses are from 198.18.0.0/15).
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import system
from .plan import PREFIX, owner_of
from .reaper import DEFAULT_BASE

DOCKER_FAMILY = frozenset(
    {"dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy", "runc"}
)
MACHINE_CONTAINERD = ("/var/run/docker/containerd/containerd.sock", "/run/docker/containerd/containerd.sock")
_ENGINE_LINK = re.compile(r"^(veth[0-9a-f]{7}|br-[0-9a-f]{12}|docker_gwbridge)$")
_ENGINE_RULE = re.compile(r"\b(br-[0-9a-f]{12}|docker0|docker_gwbridge)\b")
_ADDRESS = re.compile(r"(?<![\w:.])([0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+)(?:/\d+)?")
_COUNTERS = re.compile(r" \[\d+:\d+\]$")
_LAB_TRACE = re.compile(r"198\.1[89]\.|2001:2:|audlab|auditor-lab")


@dataclass(frozen=True)
class MachineState:
    netns: tuple[str, ...]
    links: tuple[str, ...]
    processes: tuple[str, ...]
    iptables: tuple[str, ...]
    mounts: tuple[str, ...]
    cgroups: tuple[str, ...]
    engine_subnets: tuple[str, ...] = ()  # the machine engine's networks around the dump


# Where a test session keeps the capture taken before its first lab (``config.stash``).
BEFORE_LABS = pytest.StashKey[MachineState]()


def _live_other_labs() -> set[str]:
    """Lab ids (``pid-tag``) of labs whose owner is another live process."""
    ids = set()
    names = list(system.list_lab_netns())
    if DEFAULT_BASE.is_dir():
        names += [p.name for p in DEFAULT_BASE.iterdir()]
    for name in names:
        owner = owner_of(name)
        if owner and owner != os.getpid() and system.process_alive(owner):
            ids.add("-".join(name.removeprefix(PREFIX).split("-")[:2]))
    return ids


def _links() -> tuple[str, ...]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split(": ")
        if len(fields) >= 2:
            found.append(fields[1].split("@")[0])
    return tuple(sorted(found))


def _processes(other_labs: set[str], machine_dockerd: int | None) -> tuple[str, ...]:
    """Docker-family processes and anything naming a lab directory, except those of the
    machine's engine and of other live sessions (by their own or an ancestor's command line)."""
    markers = [f"{DEFAULT_BASE}/{lab}/" for lab in other_labs]
    table: dict[int, tuple[int, str, list[str]]] = {}
    for pid in system.all_pids():
        fields = system.stat_fields(pid)
        if fields is None or fields[0] in ("Z", "X"):
            continue
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        table[pid] = (int(fields[1]), comm, system.cmdline(pid))

    def elsewhere(pid: int) -> bool:
        seen = set()
        while pid in table and pid not in seen:
            seen.add(pid)
            ppid, comm, argv = table[pid]
            text = " ".join(argv)
            if pid == machine_dockerd or any(m in text for m in markers) or _foreign_path(argv):
                return True
            if comm.startswith("containerd") and any(a in text for a in MACHINE_CONTAINERD):
                return True  # the machine engine's containerd and shims
            pid = ppid
        return False

    found = []
    for pid, (_ppid, comm, argv) in table.items():
        text = " ".join(argv)
        if comm == "runc" or (comm not in DOCKER_FAMILY and "auditor-lab" not in text):
            continue  # runc: short-lived helpers of whichever containerd
        if not elsewhere(pid):
            found.append(f"{pid} {text}")
    return tuple(sorted(found))


def _iptables() -> tuple[str, ...]:
    lines = []
    for tool in ("iptables-save", "ip6tables-save"):
        proc = subprocess.run([tool], capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            if line.startswith("#"):
                continue
            lines.append(f"{tool[:-5]}: {_COUNTERS.sub('', line)}")
    return tuple(lines)


def _mounts() -> tuple[str, ...]:
    text = Path("/proc/self/mountinfo").read_text()
    return tuple(sorted(line.split()[4] for line in text.splitlines() if _LAB_TRACE.search(line.split()[4])))


def _cgroups(other_labs: set[str]) -> tuple[str, ...]:
    found = system.cgroup_dirs(PREFIX)
    return tuple(str(p) for p in found if not any(p.name.startswith(f"{PREFIX}{lab}-") for lab in other_labs))


def machine_dockerd_pid() -> int | None:
    try:
        return int(Path("/var/run/docker.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _foreign(name: str) -> bool:
    """A namespace of another live session: its name holds the pid of a live process other
    than this one (lab names always do: ``audlab-<owner pid>-...``)."""
    own = os.getpid()
    return any(
        int(n) != own and int(n) > 1 and system.process_alive(int(n)) for n in re.findall(r"\d+", name)
    )


def _foreign_path(argv: Sequence[str]) -> bool:
    """A daemon of another live session: a path in its arguments names that session's pid
    (``/tmp/audexp-4891-ipv6/data``), as every lab path names its owner."""
    for arg in argv:
        for part in arg.split("/")[1:-1] if "/" in arg else []:
            if _foreign(part):
                return True
    return False


def capture(client=None) -> MachineState:  # type: ignore[no-untyped-def]
    """The machine now; with the machine engine's ``client``, also its network subnets, listed
    before and after the firewall dump so a network made or removed meanwhile is known."""
    others = _live_other_labs()
    subnets = machine_subnets(client) if client is not None else []
    rules = _iptables()
    subnets += machine_subnets(client) if client is not None else []
    return MachineState(
        netns=tuple(n for n in _all_netns() if not _foreign(n)),
        links=_links(),
        processes=_processes(others, machine_dockerd_pid()),
        iptables=rules,
        mounts=tuple(m for m in _mounts() if not any(lab in m for lab in others)),
        cgroups=_cgroups(others),
        engine_subnets=tuple(sorted(set(subnets))),
    )


def _all_netns() -> tuple[str, ...]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return tuple(sorted(line.split()[0] for line in out.splitlines() if line.strip()))


def is_engine_churn(line: str, machine_subnets: Sequence[str]) -> bool:
    """A rule the machine's engine adds or removes for its own networks and containers."""
    if _ENGINE_RULE.search(line):
        return True
    nets = [ipaddress.ip_network(s) for s in machine_subnets]
    for match in _ADDRESS.finditer(line):
        try:
            ip = ipaddress.ip_address(match.group(1))
        except ValueError:
            continue
        if any(ip.version == n.version and ip in n for n in nets):
            return True
    return False


FIELDS = ("netns", "link", "process", "iptables", "mount", "cgroup")


def differences(
    before: MachineState,
    after: MachineState,
    machine_subnets: Iterable[str] = (),
    fields: Sequence[str] = FIELDS,
) -> list[str]:
    """What changed, apart from the machine engine's own churn; empty when nothing did.

    ``fields`` narrows the comparison, e.g. to ``("link", "iptables")`` while a lab runs
    (its own namespaces, processes and mounts exist then, by design)."""
    subnets = sorted({*machine_subnets, *before.engine_subnets, *after.engine_subnets})
    out: list[str] = []

    def compare(label: str, old: Sequence[str], new: Sequence[str]) -> None:
        if label not in fields:
            return
        gone, came = Counter(old) - Counter(new), Counter(new) - Counter(old)
        out.extend(f"{label}: gone {x}" for x in sorted(gone.elements()))
        out.extend(f"{label}: new {x}" for x in sorted(came.elements()))

    compare("netns", before.netns, after.netns)
    compare(
        "link",
        [x for x in before.links if not _ENGINE_LINK.match(x)],
        [x for x in after.links if not _ENGINE_LINK.match(x)],
    )
    compare("process", before.processes, after.processes)
    # Compared as a multiset: the machine's engine re-inserts its jump rules (DOCKER-USER
    # first) whenever it creates a network for another session; a lab never runs iptables here.
    compare(
        "iptables",
        [x for x in before.iptables if not is_engine_churn(x, subnets)],
        [x for x in after.iptables if not is_engine_churn(x, subnets)],
    )
    if "iptables" in fields:
        out.extend(f"iptables: lab trace {x}" for x in after.iptables if _LAB_TRACE.search(x))
    compare("mount", before.mounts, after.mounts)
    compare("cgroup", before.cgroups, after.cgroups)
    return out


def machine_subnets(client) -> list[str]:  # type: ignore[no-untyped-def]
    """Subnets of the machine engine's networks (their rules come and go with other sessions)."""
    subnets = []
    for net in client.api.networks():
        for config in (net.get("IPAM") or {}).get("Config") or []:
            if config.get("Subnet"):
                subnets.append(config["Subnet"])
    return subnets


def settle(before: MachineState, client, timeout: float = 10.0) -> list[str]:  # type: ignore[no-untyped-def]
    """Differences from ``before`` once the machine's engine is quiet: captured again for up to
    ``timeout`` seconds while another session's engine activity is half-way (a rule removed
    and not yet re-added). What a lab leaves behind does not go away by waiting."""
    deadline = time.monotonic() + timeout
    while True:
        found = differences(before, capture(client))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
