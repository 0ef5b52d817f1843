"""What the numbers depend on: kernel, engine, userland-proxy setting, MTUs, congestion control."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from typing import Any

from auditor.model.bench import Environment, UserlandProxy

from . import procfs


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return None


def userland_proxy_setting() -> UserlandProxy:
    """The configured ``userland-proxy`` value and where it was read (default: on)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and procfs.comm(int(entry)) == "dockerd":
            for arg in procfs.cmdline(int(entry)):
                if arg.startswith("--userland-proxy="):
                    value = arg.split("=", 1)[1].lower() not in ("false", "0")
                    return UserlandProxy(value, "dockerd command line")
                if arg == "--userland-proxy":
                    return UserlandProxy(True, "dockerd command line")
            break
    text = _read("/etc/docker/daemon.json")
    if text:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            doc = {}
        if isinstance(doc, dict) and "userland-proxy" in doc:
            return UserlandProxy(bool(doc["userland-proxy"]), "/etc/docker/daemon.json")
    return UserlandProxy(True, "engine default")


def mtu(interface: str) -> int | None:
    value = _read(f"/sys/class/net/{interface}/mtu")
    return int(value) if value and value.isdigit() else None


def tool_version(argv: list[str]) -> str | None:
    if not shutil.which(argv[0]):
        return None
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.strip():
            return line.strip()
    return None


def cpu_model() -> str | None:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return None


def collect(client: Any) -> Environment:
    """The environment record of a run (engine facts come from ``client``)."""
    version = client.version()
    info = client.info()
    return Environment(
        hostname=platform.node(),
        kernel=platform.release(),
        os=_os_name(),
        cpus=os.cpu_count(),
        cpu_model=cpu_model(),
        load_average=tuple(os.getloadavg()),
        engine_version=version.get("Version"),
        engine_api_version=version.get("ApiVersion"),
        cgroup_version=info.get("CgroupVersion"),
        swarm=(info.get("Swarm") or {}).get("LocalNodeState"),
        userland_proxy=userland_proxy_setting(),
        congestion_control=_read("/proc/sys/net/ipv4/tcp_congestion_control"),
        mtu=tuple((name, mtu(name)) for name in ("lo", "docker0")),
        tools=(
            ("iperf3", tool_version(["iperf3", "--version"])),
            ("sockperf", tool_version(["sockperf", "--version"])),
        ),
    )


def _os_name() -> str | None:
    for line in (_read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return None
