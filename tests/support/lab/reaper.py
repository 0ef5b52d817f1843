"""The lab's state file and the removal of everything a lab made, live or stale.

``state.json`` is written before anything else exists and records the owner (pid, its start
time and the boot id, so a recycled pid is not mistaken for the owner), the namespaces with
their inodes and the daemons' pids. ``destroy`` removes, in this order: every process of the
lab (in its namespaces, naming its directory, or descending from those), the unix sockets
those processes had bound outside the lab directory (containerd's shim sockets in
/run/containerd/s), the mounts below the lab directory, the lab's cgroups, its namespaces and
finally its directory. ``reap_stale`` does the same for labs whose owner has died; a lab
whose owner lives is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import system
from .plan import PREFIX, netns_prefix, owner_of

DEFAULT_BASE = Path(os.environ.get("AUDITOR_LAB_DIR", "/var/lib/auditor-lab"))


@dataclass(frozen=True)
class Owner:
    pid: int
    start_time: int | None
    boot_id: str

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(pid, system.start_time(pid), system.boot_id())

    def alive(self) -> bool:
        if self.boot_id and self.boot_id != system.boot_id():
            return False
        return system.process_alive(self.pid, self.start_time)


def write_state(directory: Path, doc: dict[str, Any]) -> None:
    tmp = directory / "state.json.tmp"
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
    tmp.replace(directory / "state.json")


def read_state(directory: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((directory / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def owner_from_state(doc: dict[str, Any] | None, lab_id: str) -> Owner | None:
    """The recorded owner, or one guessed from the name when the state file is missing."""
    if doc and isinstance(doc.get("owner"), dict):
        o = doc["owner"]
        try:
            return Owner(int(o["pid"]), o.get("start_time"), str(o.get("boot_id", "")))
        except (KeyError, TypeError, ValueError):
            pass
    pid = owner_of(lab_id)
    return Owner(pid, None, "") if pid else None


def _bound_sockets(pids: list[int], keep_under: Path) -> list[Path]:
    """Pathname unix sockets the processes listen on, outside ``keep_under``."""
    inodes: set[int] = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
        except OSError:
            continue
    found: set[Path] = set()
    tables = {system.netns_inode(pid): pid for pid in pids}
    for pid in tables.values():
        try:
            text = Path(f"/proc/{pid}/net/unix").read_text()
        except OSError:
            continue
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[6].isdigit() and int(fields[6]) in inodes:
                path = Path(fields[7])
                if fields[7].startswith("/") and keep_under not in path.parents:
                    found.add(path)
    return sorted(found)


def destroy(lab_id: str, directory: Path, netns_inodes: set[int]) -> list[str]:
    """Remove every remnant of one lab; returns what could not be removed (empty when clean)."""
    problems: list[str] = []
    marker = str(directory) + "/"
    for name in system.list_lab_netns():
        if name.startswith(netns_prefix(lab_id)):
            try:
                netns_inodes = netns_inodes | {os.stat(system.NETNS_DIR / name).st_ino}
            except OSError:
                pass
    for _ in range(3):  # a dying dockerd may still start a child: look again
        pids = system.lab_processes(netns_inodes, marker)
        if not pids:
            break
        sockets = _bound_sockets(pids, directory)
        survivors = system.kill_and_wait(pids)
        problems += [f"process {pid} survived SIGKILL" for pid in survivors]
        for path in sockets:
            try:
                if stat.S_ISSOCK(path.lstat().st_mode):
                    path.unlink()
            except OSError:
                pass
    problems += system.unmount_all(directory)
    problems += system.remove_cgroups(netns_prefix(lab_id))
    for name in system.list_lab_netns():
        if name.startswith(netns_prefix(lab_id)):
            try:
                system.delete_netns(name)
            except system.LabError as exc:
                problems.append(str(exc))
    if directory.exists() and not system.mounts_under(directory):
        state = directory / "state.json"
        for child in directory.iterdir():
            if child != state:
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        leftover = [p.name for p in directory.iterdir() if p != state]
        if leftover:
            problems.append(f"{directory}: could not remove {leftover}")
        else:
            state.unlink(missing_ok=True)
            directory.rmdir()
    return problems


def stale_labs(base: Path = DEFAULT_BASE, namespaces: Iterable[str] | None = None) -> list[str]:
    """Ids of labs on this machine whose owner is gone (from directories and namespaces)."""
    ids: dict[str, Owner | None] = {}
    if base.is_dir():
        for entry in base.iterdir():
            if entry.is_dir() and owner_of(entry.name):
                ids[entry.name] = owner_from_state(read_state(entry), entry.name)
    for name in system.list_lab_netns() if namespaces is None else namespaces:
        parts = name[len(PREFIX) :].split("-")
        lab_id = "-".join(parts[:2])
        if owner_of(lab_id) and lab_id not in ids:
            ids[lab_id] = owner_from_state(None, lab_id)
    return sorted(lab_id for lab_id, owner in ids.items() if owner is not None and not owner.alive())


def reap_stale(base: Path = DEFAULT_BASE) -> dict[str, list[str]]:
    """Remove every lab whose owner has died; lab id -> problems left (empty when clean)."""
    reaped = {}
    for lab_id in stale_labs(base):
        doc = read_state(base / lab_id) or {}
        inodes = {int(v) for v in (doc.get("namespaces") or {}).values() if isinstance(v, int)}
        reaped[lab_id] = destroy(lab_id, base / lab_id, inodes)
    return reaped
