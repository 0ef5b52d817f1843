"""The daemon and firewall facts of the engine behind one address, read where that daemon runs.

``find_daemon`` names the dockerd that serves the scanned socket or TCP address. Its command
line and its config file (read through its own root) give the settings; the firewall dumps
are taken inside its network namespace (``nsenter --net=/proc/PID/ns/net iptables-save``, or
directly when the scanner shares that namespace), so a second engine on the machine is audited
with its own rules, not the first one's. UFW's config counts only for a daemon in the init
network namespace (where UFW loads its rules at boot); elsewhere only UFW's chains in the
daemon's own dump do, and firewalld only when it runs in that namespace.

When no daemon can be named (a remote engine, a proxy in front of the socket, /proc not
readable), nothing is read: every such fact stays unknown ("not checked") and a note says why.
Read-only throughout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.collectors.daemon_process import DaemonProcess, find_daemon, netns_of, processes_named
from auditor.collectors.host_facts import (
    parse_daemon_json,
    parse_dockerd_args,
    parse_iptables_save,
    parse_nft_ruleset,
    parse_server_version,
    parse_ufw_conf,
    resolve_daemon_settings,
)
from auditor.exposure.facts import Runner, run_command
from auditor.model import inputs
from auditor.model.errors import InputError

NOT_READ = "daemon and firewall settings not read"


@dataclass(frozen=True)
class HostReading:
    """Facts keyed by ``DaemonFacts`` field name (absent keys stay unknown), the sources they
    came from under ``sources``, and notes on what could not be read and why."""

    facts: Mapping[str, Any]
    notes: tuple[str, ...] = ()


def _read(path: Path) -> str | None:
    try:
        return inputs.read_bytes(path, "host file", inputs.CONFIG_LIMIT).decode(errors="replace")
    except InputError:
        return None


def daemon_settings(daemon: DaemonProcess, server_version: str | None) -> tuple[dict[str, Any], list[str]]:
    """Settings from the daemon's command line and config file; defaults only when both are
    known (ip6tables' default depends on the version the engine's API reported)."""
    flags = parse_dockerd_args(daemon.argv)
    sources = [f"dockerd command line (pid {daemon.pid})"]
    notes = []
    version = parse_server_version(server_version)
    config: dict[str, Any] = {}
    known = False
    if daemon.config_text is not None:
        try:
            config = parse_daemon_json(daemon.config_text)
            known = True
            sources.append(daemon.config_file)
        except ValueError:
            notes.append(
                f"{daemon.config_file} of dockerd (pid {daemon.pid}) is not valid JSON: its settings are not checked"
            )
    elif daemon.config_present is False:
        known = True  # no file: every setting has its default
        sources.append(f"{daemon.config_file} (absent: defaults)")
    else:
        notes.append(
            f"cannot read {daemon.config_file} of dockerd (pid {daemon.pid}): its settings are not checked"
        )
    facts = resolve_daemon_settings({**config, **flags}, known, version)
    facts["sources"] = tuple(sources)
    return facts, notes


def firewall_facts(daemon: DaemonProcess, proc: Path, run: Runner) -> tuple[dict[str, Any], list[str]]:
    """UFW/firewalld status and DOCKER-USER filtering in the daemon's network namespace."""
    if daemon.shares_scanner_netns is None or daemon.netns_inode is None:
        return {}, [
            f"the network namespace of dockerd (pid {daemon.pid}) is not readable: its firewall is not checked"
        ]

    def inside(argv: Sequence[str]) -> list[str]:
        return list(argv) if daemon.shares_scanner_netns else daemon.nsenter_argv(argv)

    where = "" if daemon.shares_scanner_netns else f" in netns {daemon.netns_name or f'of pid {daemon.pid}'}"
    facts: dict[str, Any] = {}
    sources = []
    iptables = run(inside(["iptables-save"]))
    ipt = parse_iptables_save(iptables) if iptables is not None else None
    if ipt is not None:
        facts["docker_user_filters"] = ipt["docker_user_filters"]
        sources.append(f"iptables-save{where}")
    nft_text = run(inside(["nft", "list", "ruleset"]))
    nft = parse_nft_ruleset(nft_text) if nft_text is not None else None
    if nft is not None:
        sources.append(f"nft list ruleset{where}")
    in_init_netns = daemon.netns_inode == netns_of(1, proc)
    conf = _read(proc / str(daemon.pid) / "root/etc/ufw/ufw.conf") if in_init_netns else None
    enabled = parse_ufw_conf(conf) if conf is not None else None
    if enabled is not None:
        facts["ufw_active"] = enabled or bool(ipt and ipt["ufw_chains"])
        sources.append("/etc/ufw/ufw.conf")
    elif ipt is not None:
        facts["ufw_active"] = ipt["ufw_chains"]
    running = any(ns == daemon.netns_inode for _pid, ns in processes_named("firewalld", proc))
    facts["firewalld_active"] = running or bool(nft and nft["firewalld_table"])
    facts["sources"] = tuple(sources)
    notes = [] if ipt is not None else [f"iptables-save{where} failed: DOCKER-USER rules are not checked"]
    return facts, notes


def read_host_facts(
    address: str,
    server_version: str | None = None,
    proc: Path = Path("/proc"),
    netns_dir: Path = Path("/var/run/netns"),
    run: Runner = run_command,
) -> HostReading:
    """The facts of the dockerd behind ``address`` (``unix://``, a path or ``tcp://``) whose API
    reported ``server_version``. Nothing of the daemon's is executed: whoever serves a socket
    chooses that binary."""
    try:
        lookup = find_daemon(address, proc, netns_dir)
    except ValueError:
        return HostReading(
            {}, (f"{NOT_READ}: only a unix:// or tcp:// engine on this machine is read, not {address}",)
        )
    if lookup.daemon is None:
        return HostReading({}, (f"{NOT_READ}: {lookup.reason}",))
    settings, notes = daemon_settings(lookup.daemon, server_version)
    firewall, more = firewall_facts(lookup.daemon, proc, run)
    sources = (*settings.pop("sources"), *firewall.pop("sources", ()))
    return HostReading({**settings, **firewall, "sources": sources}, tuple(notes + more))
