"""Daemon and firewall facts that the Engine API does not expose, read on the local host.

Read-only: ``/etc/docker/daemon.json`` (or the daemon's ``--config-file``), the running
``dockerd``'s command line from ``/proc``, its ``--version``, ``iptables-save``,
``nft list ruleset``, UFW's config and the process list. Each source that cannot be read
leaves its facts unknown; defaults are applied only when the full configuration (command
line and config file) is known. Parsers are pure functions so saved dumps can be tested.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.errors import InputError

Runner = Callable[[Sequence[str]], str | None]

DEFAULT_CONFIG = "/etc/docker/daemon.json"

# daemon.json key / long flag name -> DaemonFacts field, for boolean settings.
BOOL_SETTINGS = {
    "icc": "icc",
    "userland-proxy": "userland_proxy",
    "iptables": "iptables",
    "ip6tables": "ip6tables",
    "ipv6": "ipv6",
    "allow-direct-routing": "allow_direct_routing",
}
# Defaults of dockerd when a setting is absent (ip6tables depends on the version).
BOOL_DEFAULTS = {
    "icc": True,
    "userland-proxy": True,
    "iptables": True,
    "ipv6": False,
    "allow-direct-routing": False,
}
_VALUE_FLAGS = {"ip", "config-file", "host", "tlscacert", "tlscert", "tlskey"}
_BOOL_FLAGS = set(BOOL_SETTINGS) | {"tls", "tlsverify"}


def _to_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    return None


def parse_dockerd_args(args: Sequence[str]) -> dict[str, Any]:
    """Explicit settings on a dockerd command line, keyed like daemon.json (``hosts`` a list).

    Boolean flags follow Go's flag rules: ``--iptables`` or ``--iptables=false``, never a
    separate value. ``-H``/``--host`` may repeat and take ``=value``, a separate value or
    (for ``-H``) an attached one.
    """
    out: dict[str, Any] = {}
    hosts: list[str] = []
    items = list(args[1:])
    i = 0
    while i < len(items):
        arg = items[i]
        i += 1
        if arg.startswith("-H") and not arg.startswith("--"):
            value = arg[2:].lstrip("=")
            if not value and i < len(items):
                value, i = items[i], i + 1
            hosts.append(value)
            continue
        if not arg.startswith("--"):
            continue
        name, eq, value = arg[2:].partition("=")
        if name in _BOOL_FLAGS:
            parsed = _to_bool(value) if eq else True
            if parsed is not None:
                out[name] = parsed
        elif name in _VALUE_FLAGS:
            if not eq and i < len(items):
                value, i = items[i], i + 1
            if name == "host":
                hosts.append(value)
            else:
                out[name] = value
    if hosts:
        out["hosts"] = hosts
    return out


def parse_daemon_json(text: str) -> dict[str, Any]:
    """The settings of a daemon.json that matter here; raises ``ValueError`` when malformed."""
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("daemon.json is not a JSON object")
    out: dict[str, Any] = {}
    for key in (*BOOL_SETTINGS, "tls", "tlsverify"):
        if isinstance(doc.get(key), bool):
            out[key] = doc[key]
    if isinstance(doc.get("ip"), str):
        out["ip"] = doc["ip"]
    if isinstance(doc.get("hosts"), list):
        out["hosts"] = [str(h) for h in doc["hosts"]]
    return out


def parse_version_output(text: str | None) -> tuple[int, int, int] | None:
    """``Docker version 20.10.24+dfsg1, build 297e128`` -> ``(20, 10, 24)``."""
    match = re.search(r"version v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def resolve_daemon_settings(
    settings: Mapping[str, Any], complete: bool, version: tuple[int, int, int] | None = None
) -> dict[str, Any]:
    """DaemonFacts fields from explicit settings; defaults only when ``complete`` is true."""
    facts: dict[str, Any] = {}
    for key, field_name in BOOL_SETTINGS.items():
        if key in settings:
            facts[field_name] = settings[key]
        elif complete and key in BOOL_DEFAULTS:
            facts[field_name] = BOOL_DEFAULTS[key]
        elif complete and key == "ip6tables" and version is not None:
            facts[field_name] = version >= (27, 0, 0)  # on by default since engine 27.0
    if settings.get("ip"):
        facts["default_bind_ip"] = settings["ip"]
    tcp = [h for h in settings.get("hosts", []) if h.startswith("tcp://")]
    if tcp and not settings.get("tlsverify"):
        facts["tcp_api_without_tls"] = True
        facts["tcp_api_endpoints"] = tuple(tcp)
    elif complete:
        facts["tcp_api_without_tls"] = False
    return facts


def parse_iptables_save(text: str) -> dict[str, Any]:
    """Firewall facts from ``iptables-save``: DOCKER-USER filtering and UFW's chains."""
    user_rules = [
        line
        for line in text.splitlines()
        if line.startswith("-A DOCKER-USER ") and line.strip() != "-A DOCKER-USER -j RETURN"
    ]
    ufw_chains = any(line.startswith((":ufw-", ":ufw6-")) for line in text.splitlines())
    return {"docker_user_filters": bool(user_rules), "ufw_chains": ufw_chains}


def parse_nft_ruleset(text: str) -> dict[str, Any]:
    """Facts from ``nft list ruleset``: firewalld's own table, DOCKER-USER rules in nft."""
    firewalld = bool(re.search(r"^table inet firewalld\b", text, re.MULTILINE))
    return {"firewalld_table": firewalld}


def parse_ufw_conf(text: str) -> bool | None:
    """``ENABLED=yes`` in /etc/ufw/ufw.conf."""
    match = re.search(r"^\s*ENABLED\s*=\s*\"?(\w+)\"?", text, re.MULTILINE)
    return None if match is None else match.group(1).lower() == "yes"


def _run(cmd: Sequence[str]) -> str | None:
    """Run a read-only command; ``None`` when it is missing, denied or fails."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _read(path: Path) -> str | None:
    try:
        return inputs.read_bytes(path, "host file", inputs.CONFIG_LIMIT).decode(errors="replace")
    except InputError:
        return None


def find_processes(proc: Path, name: str) -> list[tuple[int, list[str]]]:
    """(pid, argv) of processes whose ``comm`` is ``name``, lowest pid first."""
    found = []
    try:
        entries = list(proc.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.isdigit() or (_read(entry / "comm") or "").strip() != name:
            continue
        raw = (_read(entry / "cmdline") or "").split("\0")
        found.append((int(entry.name), [a for a in raw if a]))
    return sorted(found)


def read_daemon_facts(root: Path, run: Runner) -> dict[str, Any]:
    """Daemon settings from the running dockerd's command line and its config file."""
    proc_readable = (root / "proc").is_dir()
    daemons = find_processes(root / "proc", "dockerd") if proc_readable else []
    sources: list[str] = []
    flags: dict[str, Any] = {}
    version = None
    if daemons:
        pid, argv = daemons[0]
        flags = parse_dockerd_args(argv)
        sources.append("dockerd command line")
        version = parse_version_output(run([str(root / "proc" / str(pid) / "exe"), "--version"]))
    config_path = root / str(flags.get("config-file", DEFAULT_CONFIG)).lstrip("/")
    config: dict[str, Any] = {}
    config_known = False
    text = _read(config_path)
    if text is not None:
        try:
            config = parse_daemon_json(text)
            config_known = True
            sources.append(str(flags.get("config-file", DEFAULT_CONFIG)))
        except ValueError:
            config_known = False
    elif not config_path.exists():
        config_known = True  # no file: every setting has its default
    complete = bool(daemons) and config_known
    facts = resolve_daemon_settings({**config, **flags}, complete, version)
    facts["sources"] = tuple(sources)
    return facts


def read_firewall_facts(root: Path, run: Runner) -> dict[str, Any]:
    """UFW/firewalld status and DOCKER-USER filtering, from whatever is readable."""
    facts: dict[str, Any] = {}
    sources: list[str] = []
    iptables = run(["iptables-save"])
    ipt = parse_iptables_save(iptables) if iptables is not None else None
    if ipt is not None:
        facts["docker_user_filters"] = ipt["docker_user_filters"]
        sources.append("iptables-save")
    nft_text = run(["nft", "list", "ruleset"])
    nft = parse_nft_ruleset(nft_text) if nft_text is not None else None
    if nft is not None:
        sources.append("nft list ruleset")
    ufw_conf = _read(root / "etc/ufw/ufw.conf")
    ufw_enabled = parse_ufw_conf(ufw_conf) if ufw_conf is not None else None
    if ufw_enabled is not None:
        facts["ufw_active"] = ufw_enabled or bool(ipt and ipt["ufw_chains"])
    elif ipt is not None:
        facts["ufw_active"] = ipt["ufw_chains"]
    if (root / "proc").is_dir():
        running = bool(find_processes(root / "proc", "firewalld"))
        facts["firewalld_active"] = running or bool(nft and nft["firewalld_table"])
    elif nft is not None:
        facts["firewalld_active"] = nft["firewalld_table"]
    facts["sources"] = tuple(sources)
    return facts


def shares_daemon_netns(root: Path) -> bool:
    """Whether this process sees the firewall dockerd programs (same network namespace).

    Inside a container with the socket mounted, ``iptables-save`` would read the container's
    own rules: firewall facts are then unknown, not "no firewall".
    """
    daemons = find_processes(root / "proc", "dockerd")
    if not daemons:
        return False
    try:
        theirs = (root / "proc" / str(daemons[0][0]) / "ns" / "net").readlink()
        ours = (root / "proc" / "self" / "ns" / "net").readlink()
    except OSError:
        return False
    return theirs == ours


def read_local_host_facts(root: Path = Path("/"), run: Runner = _run) -> dict:
    """Facts keyed by ``DaemonFacts`` field name; absent keys stay unknown."""
    daemon = read_daemon_facts(root, run)
    firewall = read_firewall_facts(root, run) if shares_daemon_netns(root) else {}
    sources = (*daemon.pop("sources", ()), *firewall.pop("sources", ()))
    return {**daemon, **firewall, "sources": sources}
