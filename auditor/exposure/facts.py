"""Frozen records of the host's firewall and network, built from raw dumps, and the readers.

``FirewallFacts`` and ``HostNetwork`` hold the raw text of every dump (what a snapshot
saves, what a reviewer can read) and the parsed forms (what the analysis uses). Build them
with ``firewall_facts(...)`` / ``host_network(...)`` from texts, ``read_firewall()`` /
``read_host_network()`` on the live host (read-only commands), or ``load_dumps(DIR)`` from
saved files. ``facts_to_json`` / ``facts_from_json`` keep only the raw texts, so a saved
snapshot re-parses with the current code.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.exposure.hostnet import (
    Interface,
    Listener,
    ProxyListener,
    Route,
    parse_docker_proxy,
    parse_ip_addr,
    parse_ip_route,
    parse_ss_listen,
    parse_sysctl,
)
from auditor.exposure.iptables import parse_iptables_save
from auditor.exposure.nftables import NftRuleset, parse_nft_json
from auditor.exposure.packet import prefix_mask
from auditor.exposure.rules import Ruleset
from auditor.exposure.runner import Runner, run_command
from auditor.model.errors import InputError

FACTS_VERSION = 1

# File names of a dump directory (``load_dumps``/``write_dumps``) -> record field.
FIREWALL_FILES = {
    "iptables-save.txt": "iptables_save",
    "ip6tables-save.txt": "ip6tables_save",
    "iptables-legacy-save.txt": "iptables_legacy_save",
    "ip6tables-legacy-save.txt": "ip6tables_legacy_save",
    "nft.json": "nft_json",
    "ipset-save.txt": "ipset_save",
}
NETWORK_FILES = {
    "ip-addr.json": "ip_addr",
    "ip-route.json": "ip_route",
    "ip6-route.json": "ip6_route",
    "sysctl.txt": "sysctl",
    "docker-proxy.txt": "docker_proxy",
    "ss-listen.txt": "ss_listen",
}
SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
)


@dataclass(frozen=True)
class FirewallFacts:
    """The host's netfilter rules: raw dumps (``None`` = not read) and their parsed forms."""

    iptables_save: str | None = None
    ip6tables_save: str | None = None
    iptables_legacy_save: str | None = None
    ip6tables_legacy_save: str | None = None
    nft_json: str | None = None
    ipset_save: str | None = None
    source: str = ""
    v4: Ruleset | None = field(default=None, compare=False, repr=False)
    v6: Ruleset | None = field(default=None, compare=False, repr=False)
    legacy_v4: Ruleset | None = field(default=None, compare=False, repr=False)
    legacy_v6: Ruleset | None = field(default=None, compare=False, repr=False)
    nft: NftRuleset | None = field(default=None, compare=False, repr=False)
    ipsets: tuple[tuple[str, str, tuple], ...] = field(default=(), compare=False, repr=False)
    problems: tuple[str, ...] = field(default=(), compare=False)

    def ruleset(self, family: int) -> Ruleset | None:
        return self.v4 if family == 4 else self.v6

    def legacy(self, family: int) -> Ruleset | None:
        return self.legacy_v4 if family == 4 else self.legacy_v6


@dataclass(frozen=True)
class HostNetwork:
    """The host's interfaces, routes, sysctls and listening sockets: raw and parsed."""

    ip_addr: str | None = None
    ip_route: str | None = None
    ip6_route: str | None = None
    sysctl: str | None = None
    docker_proxy: str | None = None
    ss_listen: str | None = None
    source: str = ""
    interfaces: tuple[Interface, ...] | None = field(default=None, compare=False, repr=False)
    routes: tuple[Route, ...] | None = field(default=None, compare=False, repr=False)
    routes6: tuple[Route, ...] | None = field(default=None, compare=False, repr=False)
    sysctls: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    proxies: tuple[ProxyListener, ...] | None = field(default=None, compare=False, repr=False)
    listeners: tuple[Listener, ...] | None = field(default=None, compare=False, repr=False)
    _sysctl_map: dict = field(default_factory=dict, compare=False, repr=False)
    _interface_map: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._sysctl_map.update(self.sysctls)
        self._interface_map.update({i.name: i for i in self.interfaces or ()})

    def sysctl_value(self, key: str) -> str | None:
        return self._sysctl_map.get(key)

    def sysctl_flag(self, key: str) -> bool | None:
        value = self.sysctl_value(key)
        return None if value is None else value.strip() not in ("0", "")

    def interface(self, name: str) -> Interface | None:
        return self._interface_map.get(name)


def parse_ipset_save(text: str) -> tuple[tuple[str, str, tuple], ...]:
    """``ipset save``: (name, kind, members) for hash:ip and hash:net sets, whose members
    are (family, integer) or (family, network, mask); other set types are left out."""
    kinds: dict[str, tuple[str, int]] = {}
    members: dict[str, list] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "create":
            family = 6 if "inet6" in parts[3:] else 4
            if parts[2] in ("hash:ip", "hash:net"):
                kinds[parts[1]] = (parts[2].split(":")[1], family)
                members[parts[1]] = []
        elif len(parts) >= 3 and parts[0] == "add" and parts[1] in kinds:
            kind, family = kinds[parts[1]]
            try:
                net = ipaddress.ip_network(parts[2], strict=False)
            except ValueError:
                kinds.pop(parts[1])
                continue
            if kind == "ip" and net.num_addresses == 1:
                members[parts[1]].append((net.version, int(net.network_address)))
            else:
                mask = prefix_mask(net.version, net.prefixlen)
                members[parts[1]].append((net.version, int(net.network_address), mask))
    out = []
    for name, (kind, _family) in kinds.items():
        items = members[name]
        if kind == "ip" and all(len(m) == 2 for m in items):
            out.append((name, "ip", tuple(items)))
        else:
            nets = tuple(
                m if len(m) == 3 else (m[0], m[1], prefix_mask(m[0], 32 if m[0] == 4 else 128)) for m in items
            )
            out.append((name, "net", nets))
    return tuple(out)


def _backend(text: str | None) -> str | None:
    found = re.search(r"^# Generated by ip6?tables-save v[\d.]+ \((\w+)\)", text or "", re.MULTILINE)
    return found.group(1) if found else None


def firewall_facts(
    iptables_save: str | None = None,
    ip6tables_save: str | None = None,
    nft_json: str | None = None,
    iptables_legacy_save: str | None = None,
    ip6tables_legacy_save: str | None = None,
    ipset_save: str | None = None,
    source: str = "",
) -> FirewallFacts:
    """Parse the dumps; a dump that cannot be read at all is left out and named in
    ``problems`` (the answers that need it are then unknown)."""
    problems: list[str] = []
    nft = None
    if nft_json is not None:
        try:
            nft = parse_nft_json(nft_json, iptables_nft=_backend(iptables_save or ip6tables_save) != "legacy")
        except (ValueError, AttributeError) as exc:
            problems.append(f"nft -j list ruleset: {exc}")
    return FirewallFacts(
        iptables_save=iptables_save,
        ip6tables_save=ip6tables_save,
        iptables_legacy_save=iptables_legacy_save,
        ip6tables_legacy_save=ip6tables_legacy_save,
        nft_json=nft_json,
        ipset_save=ipset_save,
        source=source,
        v4=parse_iptables_save(iptables_save, 4) if iptables_save is not None else None,
        v6=parse_iptables_save(ip6tables_save, 6) if ip6tables_save is not None else None,
        legacy_v4=parse_iptables_save(iptables_legacy_save, 4) if iptables_legacy_save else None,
        legacy_v6=parse_iptables_save(ip6tables_legacy_save, 6) if ip6tables_legacy_save else None,
        nft=nft,
        ipsets=parse_ipset_save(ipset_save) if ipset_save else (),
        problems=tuple(problems),
    )


def host_network(
    ip_addr: str | None = None,
    ip_route: str | None = None,
    ip6_route: str | None = None,
    sysctl: str | None = None,
    docker_proxy: str | None = None,
    ss_listen: str | None = None,
    source: str = "",
) -> HostNetwork:
    """Parse the network dumps (``InputError`` when one is malformed)."""
    return HostNetwork(
        ip_addr=ip_addr,
        ip_route=ip_route,
        ip6_route=ip6_route,
        sysctl=sysctl,
        docker_proxy=docker_proxy,
        ss_listen=ss_listen,
        source=source,
        interfaces=parse_ip_addr(ip_addr) if ip_addr is not None else None,
        routes=parse_ip_route(ip_route, 4) if ip_route is not None else None,
        routes6=parse_ip_route(ip6_route, 6) if ip6_route is not None else None,
        sysctls=parse_sysctl(sysctl) if sysctl is not None else (),
        proxies=parse_docker_proxy(docker_proxy) if docker_proxy is not None else None,
        listeners=parse_ss_listen(ss_listen) if ss_listen is not None else None,
    )


# -- JSON (what a snapshot carries) and dump directories ----------------------------------
def facts_to_json(firewall: FirewallFacts | None, network: HostNetwork | None) -> dict[str, Any]:
    """The raw dumps as a JSON-ready dict (``{"version": 1, "firewall": {...}, ...}``)."""
    out: dict[str, Any] = {"version": FACTS_VERSION}
    if firewall is not None:
        out["firewall"] = {
            f: getattr(firewall, f) for f in FIREWALL_FILES.values() if getattr(firewall, f) is not None
        }
        out["firewall"]["source"] = firewall.source
    if network is not None:
        out["network"] = {
            f: getattr(network, f) for f in NETWORK_FILES.values() if getattr(network, f) is not None
        }
        out["network"]["source"] = network.source
    return out


def facts_from_json(doc: Mapping[str, Any]) -> tuple[FirewallFacts | None, HostNetwork | None]:
    """Inverse of ``facts_to_json``; re-parses the dumps."""
    if not isinstance(doc, Mapping) or doc.get("version") != FACTS_VERSION:
        raise InputError(f"exposure facts: expected version {FACTS_VERSION}")

    def texts(section: Any, names: Sequence[str]) -> dict[str, Any]:
        if not isinstance(section, Mapping):
            raise InputError("exposure facts: a section is not an object")
        picked = {k: section.get(k) for k in names if section.get(k) is not None}
        if not all(isinstance(v, str) for v in picked.values()):
            raise InputError("exposure facts: dumps must be strings")
        return picked

    fw = doc.get("firewall")
    net = doc.get("network")
    firewall = firewall_facts(**texts(fw, (*FIREWALL_FILES.values(), "source"))) if fw is not None else None
    network = host_network(**texts(net, (*NETWORK_FILES.values(), "source"))) if net is not None else None
    return firewall, network


def load_dumps(directory: Path) -> tuple[FirewallFacts, HostNetwork]:
    """Read a directory of saved dumps (file names as in ``FIREWALL_FILES``/``NETWORK_FILES``);
    a missing file leaves that dump unknown."""

    def read(name: str) -> str | None:
        path = directory / name
        try:
            return path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc}") from exc

    fw = {f: read(n) for n, f in FIREWALL_FILES.items()}
    net = {f: read(n) for n, f in NETWORK_FILES.items()}
    return firewall_facts(**fw, source=str(directory)), host_network(**net, source=str(directory))


def write_dumps(directory: Path, firewall: FirewallFacts, network: HostNetwork) -> None:
    """Save the raw dumps under the names ``load_dumps`` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, attr in FIREWALL_FILES.items():
        if getattr(firewall, attr) is not None:
            (directory / name).write_text(getattr(firewall, attr))
    for name, attr in NETWORK_FILES.items():
        if getattr(network, attr) is not None:
            (directory / name).write_text(getattr(network, attr))


# -- live, read-only readers --------------------------------------------------------------
def read_firewall(run: Runner = run_command) -> FirewallFacts:
    """``iptables-save``, ``ip6tables-save``, ``nft -j list ruleset`` and ``ipset save``;
    the legacy dumps too when the nft back end warns that legacy tables are present."""
    v4 = run(["iptables-save"])
    v6 = run(["ip6tables-save"])
    legacy_v4 = run(["iptables-legacy-save"]) if v4 and "iptables-legacy tables present" in v4 else None
    legacy_v6 = run(["ip6tables-legacy-save"]) if v6 and "legacy tables present" in v6 else None
    return firewall_facts(
        iptables_save=v4,
        ip6tables_save=v6,
        nft_json=run(["nft", "-j", "list", "ruleset"]),
        iptables_legacy_save=legacy_v4,
        ip6tables_legacy_save=legacy_v6,
        ipset_save=run(["ipset", "save"]),
        source="live",
    )


def read_sysctls(proc_sys: Path = Path("/proc/sys")) -> str:
    """The sysctls the model uses, as ``key = value`` lines. Without br_netfilter (no
    ``net/bridge``) bridged frames skip iptables, which the lines say as ``= 0``."""
    lines = []
    for key in SYSCTLS:
        path = proc_sys / key.replace(".", "/")
        try:
            lines.append(f"{key} = {path.read_text().strip()}")
        except OSError:
            if key.startswith("net.bridge.") and not (proc_sys / "net" / "bridge").exists():
                lines.append(f"# {key}: br_netfilter not loaded")
                lines.append(f"{key} = 0")
    for path in sorted((proc_sys / "net" / "ipv4" / "conf").glob("*/route_localnet")):
        try:
            lines.append(f"net.ipv4.conf.{path.parent.name}.route_localnet = {path.read_text().strip()}")
        except OSError:
            continue
    return "".join(line + "\n" for line in lines)


def read_docker_proxies(proc: Path = Path("/proc")) -> str | None:
    """Command lines of the ``docker-proxy`` processes in this network namespace."""
    try:
        own = os.stat(proc / "self" / "ns" / "net").st_ino
        entries = sorted((e for e in proc.iterdir() if e.name.isdigit()), key=lambda e: int(e.name))
    except OSError:
        return None
    lines = []
    for entry in entries:
        try:
            if (entry / "comm").read_text().strip() != "docker-proxy":
                continue
            if os.stat(entry / "ns" / "net").st_ino != own:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        lines.append(" ".join(a.decode(errors="replace") for a in argv if a))
    return "".join(line + "\n" for line in lines)


def read_host_network(run: Runner = run_command, proc: Path = Path("/proc")) -> HostNetwork:
    """``ip -j addr``, ``ip -j route``, ``ip -6 -j route``, the sysctls, ``docker-proxy``
    processes and ``ss -Hltnu``, all read-only."""
    return host_network(
        ip_addr=run(["ip", "-j", "addr"]),
        ip_route=run(["ip", "-j", "route"]),
        ip6_route=run(["ip", "-6", "-j", "route"]),
        sysctl=read_sysctls(proc / "sys"),
        docker_proxy=read_docker_proxies(proc),
        ss_listen=run(["ss", "-Hltnu"]),
        source="live",
    )
