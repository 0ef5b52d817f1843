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

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.collectors.daemon_process import (
    DaemonProcess,
    find_daemon,
    netns_of,
    parse_endpoint,
    process_cmdline,
    process_names,
    processes_named,
)
from auditor.collectors.host_facts import (
    parse_daemon_json,
    parse_dockerd_args,
    parse_iptables_save,
    parse_nft_ruleset,
    parse_server_version,
    parse_ufw_conf,
    resolve_daemon_settings,
)
from auditor.exposure.runner import Runner, run_command
from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.exposure import HostDumps
from auditor.model.jsontext import loads

NOT_READ = "daemon and firewall settings not read"


@dataclass(frozen=True)
class HostReading:
    """Facts keyed by ``DaemonFacts`` field name (absent keys stay unknown), the sources they
    came from under ``sources``, notes on what could not be read and why, and the raw dumps
    of the daemon's network namespace that the exposure analysis reads (``None``: not read)."""

    facts: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    dumps: HostDumps | None = None


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


SYSCTL_KEYS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
)


def _interface_names(ip_addr: str | None) -> list[str]:
    """Interface names of ``ip -j addr`` that sysctl can name (no dots, no slashes)."""
    try:
        doc = loads(ip_addr or "[]")
    except ValueError:
        return []
    names = [e.get("ifname") for e in doc if isinstance(e, dict)] if isinstance(doc, list) else []
    return [n for n in names if isinstance(n, str) and n and "." not in n and "/" not in n]


def sysctl_text(output: str | None, bridge_module: bool) -> str | None:
    """``sysctl -e`` output as the exposure model reads it. Without br_netfilter bridged frames
    skip iptables, which the text says as ``= 0``; a missing key otherwise stays unknown."""
    if output is None:
        return None
    lines = output.splitlines()
    if not bridge_module:
        for key in SYSCTL_KEYS[2:]:
            if not any(line.startswith(key + " ") for line in lines):
                lines += [f"# {key}: br_netfilter not loaded", f"{key} = 0"]
    return "".join(line + "\n" for line in lines)


def docker_proxies(daemon: DaemonProcess, proc: Path, names: Mapping[int, str] | None = None) -> str | None:
    """Command lines of the ``docker-proxy`` processes in the daemon's network namespace
    (``names``: the ``process_names`` already read)."""
    lines = []
    for pid, netns in processes_named("docker-proxy", proc, names):
        if netns != daemon.netns_inode:
            continue
        raw = process_cmdline(pid, proc)
        if raw is None:
            continue
        argv = raw.split(b"\0")
        lines.append(" ".join(a.decode(errors="replace") for a in argv if a))
    return "".join(line + "\n" for line in lines)


DUMP_WORKERS = 8  # the commands wait on the kernel, not on this process: all at once


def namespace_dumps(
    daemon: DaemonProcess,
    proc: Path,
    run: Runner,
    iptables: Callable[[], str | None],
    where: str,
    names: Mapping[int, str] | None = None,
) -> HostDumps:
    """What the exposure analysis reads of the daemon's network namespace, read-only: the
    other firewall dumps, addresses, routes, the sysctls (``/proc/sys/net`` shows the reader's
    namespace, hence ``sysctl`` run inside it), docker-proxy processes and listening sockets.
    The independent commands run concurrently (one after the other they added ~0.5 s here);
    ``iptables()`` waits for the ``iptables-save`` text read beside them."""

    def inside(argv: Sequence[str]) -> list[str]:
        return list(argv) if daemon.shares_scanner_netns else daemon.nsenter_argv(argv)

    commands = {
        "nft_json": ["nft", "-j", "list", "ruleset"],
        "ip6tables_save": ["ip6tables-save"],
        "ip_addr": ["ip", "-j", "addr"],
        "ipset_save": ["ipset", "save"],
        "ip_route": ["ip", "-j", "route"],
        "ip6_route": ["ip", "-6", "-j", "route"],
        "ss_listen": ["ss", "-Hltnu"],
    }
    with ThreadPoolExecutor(max_workers=DUMP_WORKERS) as pool:
        futures = {name: pool.submit(run, inside(argv)) for name, argv in commands.items()}
        proxies = pool.submit(docker_proxies, daemon, proc, names)
        interfaces = _interface_names(futures["ip_addr"].result())  # the sysctls name them
        route_localnet = [f"net.ipv4.conf.{n}.route_localnet" for n in ("all", *interfaces)]
        sysctls = pool.submit(run, inside(["sysctl", "-e", *SYSCTL_KEYS, *route_localnet]))
        ipt = iptables()
        legacy4 = (pool.submit(run, inside(["iptables-legacy-save"]))
                   if ipt and "iptables-legacy tables present" in ipt else None)  # fmt: skip
        ip6 = futures["ip6tables_save"].result()
        legacy6 = (pool.submit(run, inside(["ip6tables-legacy-save"]))
                   if ip6 and "legacy tables present" in ip6 else None)  # fmt: skip
        texts = {name: f.result() for name, f in futures.items()}
        return HostDumps(
            iptables_save=ipt,
            iptables_legacy_save=legacy4.result() if legacy4 is not None else None,
            ip6tables_legacy_save=legacy6.result() if legacy6 is not None else None,
            sysctl=sysctl_text(sysctls.result(), (proc / "sys/net/bridge").exists()),
            docker_proxy=proxies.result(),
            source=f"dockerd (pid {daemon.pid}){where or ' in the scanner netns'}",
            **texts,
        )


def firewall_facts(
    daemon: DaemonProcess, proc: Path, run: Runner, names: Mapping[int, str] | None = None
) -> tuple[dict[str, Any], list[str], HostDumps | None]:
    """UFW/firewalld status and DOCKER-USER filtering in the daemon's network namespace, and
    the dumps of that namespace the exposure analysis reads (``names``: the
    ``process_names`` already read, else read here)."""
    if daemon.shares_scanner_netns is None or daemon.netns_inode is None:
        return (
            {},
            [
                f"the network namespace of dockerd (pid {daemon.pid}) is not readable: its firewall is not checked"
            ],
            None,
        )
    names = process_names(proc) if names is None else names

    def inside(argv: Sequence[str]) -> list[str]:
        return list(argv) if daemon.shares_scanner_netns else daemon.nsenter_argv(argv)

    where = "" if daemon.shares_scanner_netns else f" in netns {daemon.netns_name or f'of pid {daemon.pid}'}"
    facts: dict[str, Any] = {}
    sources = []
    # Every command waits on the kernel, not on this process: all of them run at the same time
    # (the exposure's dumps after iptables-save took another ~0.2 s).
    with ThreadPoolExecutor(max_workers=2) as pool:
        ipt_future = pool.submit(run, inside(["iptables-save"]))
        dumps_future = pool.submit(namespace_dumps, daemon, proc, run, ipt_future.result, where, names)
        in_init_netns = daemon.netns_inode == netns_of(1, proc)  # read while the commands run
        conf = _read(proc / str(daemon.pid) / "root/etc/ufw/ufw.conf") if in_init_netns else None
        running = any(ns == daemon.netns_inode for _pid, ns in processes_named("firewalld", proc, names))
        iptables = ipt_future.result()
        dumps = dumps_future.result()
    nft_text = dumps.nft_json if dumps is not None else None  # the ruleset is read once, as JSON
    ipt = parse_iptables_save(iptables) if iptables is not None else None
    if ipt is not None:
        facts["docker_user_filters"] = ipt["docker_user_filters"]
        sources.append(f"iptables-save{where}")
    nft = parse_nft_ruleset(nft_text) if nft_text is not None else None
    if nft is not None:
        sources.append(f"nft -j list ruleset{where}")
    enabled = parse_ufw_conf(conf) if conf is not None else None
    if enabled is not None:
        facts["ufw_active"] = enabled or bool(ipt and ipt["ufw_chains"])
        sources.append("/etc/ufw/ufw.conf")
    elif ipt is not None:
        facts["ufw_active"] = ipt["ufw_chains"]
    facts["firewalld_active"] = running or bool(nft and nft["firewalld_table"])
    facts["sources"] = tuple(sources)
    notes = [] if ipt is not None else [f"iptables-save{where} failed: DOCKER-USER rules are not checked"]
    return facts, notes, dumps


def read_host_facts(
    address: str,
    server_version: str | None | Callable[[], str | None] = None,
    proc: Path = Path("/proc"),
    netns_dir: Path = Path("/var/run/netns"),
    run: Runner = run_command,
    on_dumps: Callable[[HostDumps], None] | None = None,
    on_found: Callable[[], None] | None = None,
) -> HostReading:
    """The facts of the dockerd behind ``address`` (``unix://``, a path or ``tcp://``) whose API
    reported ``server_version`` (or a function giving it: asked for only after the firewall
    was read, so the reading can start before the API answers). ``on_found()`` is called
    once the daemon is found, before its namespace is read (whose commands mostly wait);
    ``on_dumps`` gets the dumps as soon as they are read, before the version is asked for.
    Nothing of the daemon's is executed: whoever serves a socket chooses that binary."""
    try:
        parse_endpoint(address)  # before the processes are read: an ssh:// engine is not read here
    except ValueError:
        return HostReading(
            {}, (f"{NOT_READ}: only a unix:// or tcp:// engine on this machine is read, not {address}",)
        )
    names = process_names(proc)  # one pass over the processes for every search below
    lookup = find_daemon(address, proc, netns_dir, names)
    if lookup.daemon is None:
        return HostReading({}, (f"{NOT_READ}: {lookup.reason}",))
    if on_found is not None:
        on_found()
    firewall, more, dumps = firewall_facts(lookup.daemon, proc, run, names)
    if on_dumps is not None and dumps is not None:
        on_dumps(dumps)
    version = server_version() if callable(server_version) else server_version
    settings, notes = daemon_settings(lookup.daemon, version)
    sources = (*settings.pop("sources"), *firewall.pop("sources", ()))
    return HostReading({**settings, **firewall, "sources": sources}, tuple(notes + more), dumps)
