"""Small shared helpers for rule modules: references and port iteration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from auditor.model.exposure import OUTSIDE_KINDS, PortReach, Reach, ZoneReach, describe_zones
from auditor.model.records import Container, Network, PortBinding, Snapshot
from auditor.model.rule import Reference


def cis(item: str, title: str) -> Reference:
    return Reference(f"CIS Docker Benchmark {item}: {title}")


def cwe(number: int, title: str) -> Reference:
    return Reference(f"CWE-{number}: {title}", f"https://cwe.mitre.org/data/definitions/{number}.html")


def docs(title: str, url: str) -> Reference:
    return Reference(title, url)


PACKET_FILTERING = docs(
    "Docker docs: Packet filtering and firewalls",
    "https://docs.docker.com/engine/network/packet-filtering-firewalls/",
)


def published_ports(snapshot: Snapshot) -> Iterator[tuple[Container, PortBinding]]:
    """Every published port of every container, in snapshot order."""
    for container in snapshot.containers:
        for port in container.published_ports:
            yield container, port


def port_key(port: PortBinding) -> str:
    """A fingerprint key for a binding: stable across re-creation and stop/start.

    Wildcard bindings share one key whether written as empty, ``0.0.0.0`` or ``::`` (a
    running container shows both families, a stopped one shows the requested empty IP).
    A configured host port is part of it (``-p 8080:80 -p 9090:80`` are two exposures); an
    ephemeral one never is, as the engine assigns a new one on every start.
    """
    ip = "*" if port.is_all_interfaces else port.host_ip
    host = port.requested_host_port
    host_part = "ephemeral" if host is None else str(host)
    return f"{ip}:{host_part}->{port.container_port}/{port.protocol}"


def wildcard_groups(container: Container) -> Iterator[tuple[PortBinding, tuple[str, ...]]]:
    """A container's all-interface bindings, one per port, with the address families seen.

    Docker reports a port published on all interfaces twice (``0.0.0.0`` and ``::``);
    reviewers want one finding that names both.
    """
    groups: dict[tuple, list[PortBinding]] = {}
    for port in container.published_ports:
        if port.is_all_interfaces:
            groups.setdefault((port.container_port, port.protocol, port.requested_host_port), []).append(port)
    for bindings in groups.values():
        addresses = tuple(dict.fromkeys(b.host_ip or "*" for b in bindings))
        yield bindings[0], addresses


def port_evidence(port: PortBinding) -> tuple[tuple[str, str], ...]:
    host_port = "ephemeral" if port.host_port is None else str(port.host_port)
    if port.host_port_end and port.host_port_end != port.host_port:
        host_port = f"{port.host_port}-{port.host_port_end}"
    return (
        ("binding", port.display()),
        ("host_ip", port.host_ip or "(daemon default: all interfaces)"),
        ("host_port", host_port),
        ("container_port", f"{port.container_port}/{port.protocol}"),
    )


def effective_bind_ip(port: PortBinding, snapshot: Snapshot) -> str:
    """What an empty host IP really means on this daemon, when known."""
    if port.host_ip:
        return port.host_ip
    return snapshot.daemon.default_bind_ip or ""


def name_of(container: Container) -> str:
    """How messages name a container: the compose service name for services."""
    if container.kind == "service" and container.service:
        return container.service
    return container.name


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """``"20.10.24+dfsg1"`` -> ``(20, 10, 24)``; ``None`` when there is no leading number."""
    if not text:
        return None
    parts: list[int] = []
    for piece in text.strip().lstrip("v").split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    if not parts:
        return None
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


STANDALONE = "(standalone containers)"


def workload_of(container: Container) -> str:
    """The workload group a container belongs to: its compose project/stack, or standalone."""
    return container.project or STANDALONE


def user_networks(snapshot: Snapshot) -> Iterator[Network]:
    """Networks other than the default bridge, the special ``host``/``none`` ones, and the
    swarm routing mesh (``ingress``), which Docker itself attaches every published service to."""
    for net in snapshot.networks:
        if net.is_default_bridge or net.name in ("host", "none") or net.driver in ("host", "null"):
            continue
        if net.ingress:
            continue
        yield net


def members_can_talk(net: Network | None) -> bool:
    """False where Docker keeps a network's members apart: the swarm ``ingress`` mesh, and
    bridges with inter-container communication off (e.g. swarm's ``docker_gwbridge``)."""
    if net is None:
        return True
    if net.ingress:
        return False
    return not (net.driver == "bridge" and net.option("com.docker.network.bridge.enable_icc") == "false")


def describe_groups(members: tuple[Container, ...]) -> dict[str, list[str]]:
    """Member names by workload group, both sorted, for messages that say who shares what."""
    groups: dict[str, list[str]] = {}
    for member in members:
        groups.setdefault(workload_of(member), []).append(name_of(member))
    return {g: sorted(groups[g]) for g in sorted(groups, key=lambda g: (g == STANDALONE, g))}


def unrelated_groups(net: Network, members: tuple[Container, ...]) -> dict[str, list[str]] | None:
    """The workload groups on a network when they are unrelated, else ``None``.

    Unrelated means members of two or more projects (standalone containers count as one
    group), or a network that belongs to a project joined by a container from outside it.
    """
    groups = describe_groups(members)
    if len(groups) >= 2:
        return groups
    if net.project and groups and next(iter(groups)) != net.project:
        return groups
    return None


def format_groups(groups: dict[str, list[str]]) -> str:
    """``project shop (web, db) and standalone containers (tool)``."""
    parts = []
    for group, names in groups.items():
        label = "standalone containers" if group == STANDALONE else f"project {group}"
        parts.append(f"{label} ({', '.join(names)})")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def has_cap(caps: tuple[str, ...], cap: str) -> bool:
    """Whether a capability list names ``cap`` (``CAP_`` prefix and ``ALL`` understood)."""
    wanted = cap.upper().removeprefix("CAP_")
    names = {c.upper().removeprefix("CAP_") for c in caps}
    return wanted in names or "ALL" in names


def reaches_beyond_loopback(port: PortBinding, snapshot: Snapshot) -> bool:
    """Published and reachable from other hosts, given the daemon's default bind address."""
    if not port.published:
        return False
    bind = effective_bind_ip(port, snapshot)
    if not bind:
        return True
    return not PortBinding(port.container_port, port.protocol, bind, port.host_port).is_loopback


def first_per_key(snapshot: Snapshot, wanted) -> Iterator[tuple[Container, PortBinding]]:
    """Published ports passing ``wanted``, once per container and binding key.

    A running container lists a wildcard port twice (``0.0.0.0`` and ``::``); a reviewer
    wants one finding for it.
    """
    seen: set[tuple[str, str, int | None]] = set()
    for container, port in published_ports(snapshot):
        key = (container.name, port_key(port), port.requested_host_port)
        if key in seen or not wanted(port):
            continue
        seen.add(key)
        yield container, port


def where(port: PortBinding) -> str:
    """``all interfaces`` or the host address a port is bound to."""
    return "all interfaces" if port.is_all_interfaces else port.host_ip


@dataclass(frozen=True)
class PortEntry:
    """One published port entry as a person wrote it: ``- "8080:80"`` or a whole range
    ``- "49152-49400:49152-49400/udp"`` (one binding per container port), with the address
    families Docker reports for it (a wildcard shows up as ``0.0.0.0`` and ``::``)."""

    bindings: tuple[PortBinding, ...]
    addresses: tuple[str, ...]

    @property
    def first(self) -> PortBinding:
        return self.bindings[0]

    @property
    def is_range(self) -> bool:
        return len(self.bindings) > 1

    def _host(self) -> str:
        first, last = self.bindings[0], self.bindings[-1]
        if first.requested_host_port is None:
            return "ephemeral"
        if self.is_range:
            return f"{first.host_port}-{last.host_port}"
        if first.host_port_end and first.host_port_end != first.host_port:
            return f"{first.host_port}-{first.host_port_end}"
        return str(first.host_port)

    def _container(self) -> str:
        first, last = self.bindings[0], self.bindings[-1]
        return f"{first.container_port}-{last.container_port}" if self.is_range else str(first.container_port)

    def display(self) -> str:
        if not self.is_range:
            return self.first.display()
        ip = self.first.host_ip or "*"
        if ":" in ip:
            ip = f"[{ip}]"
        return f"{ip}:{self._host()}->{self._container()}/{self.first.protocol}"

    @property
    def key(self) -> str:
        """``port_key`` of a single port (fingerprints stay as they were); a range names both ends."""
        if not self.is_range:
            return port_key(self.first)
        ip = "*" if self.first.is_all_interfaces else self.first.host_ip
        return f"{ip}:{self._host()}->{self._container()}/{self.first.protocol}"

    def evidence(self) -> tuple[tuple[str, str], ...]:
        if not self.is_range:
            return port_evidence(self.first)
        return (
            ("binding", self.display()),
            ("host_ip", self.first.host_ip or "(daemon default: all interfaces)"),
            ("host_port", self._host()),
            ("container_port", f"{self._container()}/{self.first.protocol}"),
            ("ports", str(len(self.bindings))),
        )


def _joins(prev: PortBinding, port: PortBinding) -> bool:
    """Whether ``port`` continues the range ``prev`` belongs to (same entry, next port)."""
    if (prev.protocol, prev.host_ip, prev.origin, prev.entry) != (
        port.protocol,
        port.host_ip,
        port.origin,
        port.entry,
    ):
        return False
    if port.container_port != prev.container_port + 1 or prev.host_port_end or port.host_port_end:
        return False
    if prev.requested_host_port is None or port.requested_host_port is None:
        return (
            prev.requested_host_port is None and port.requested_host_port is None and prev.origin is not None
        )
    return port.requested_host_port == prev.requested_host_port + 1


def port_entries(
    container: Container, wanted: Callable[[PortBinding], bool] | None = None
) -> list[PortEntry]:
    """A container's published ports passing ``wanted``, as the entries they were written as.

    Wildcard copies (``0.0.0.0`` and ``::`` of one port) are one binding with both addresses;
    consecutive ports of one entry (compose: the same line; engine: a contiguous run with the
    same offset) are one entry. In order of the entries' origin, then port."""
    ports = container.published_ports
    if wanted is not None:
        ports = tuple(p for p in ports if wanted(p))
    if len(ports) < 2:  # most containers: nothing to group (six rules ask for every container)
        return [PortEntry(ports, (ports[0].host_ip or "*",))] if ports else []
    groups: dict[tuple, list[PortBinding]] = {}
    for port in ports:
        ip = "*" if port.is_all_interfaces else port.host_ip
        groups.setdefault((port.container_port, port.protocol, port.requested_host_port, ip), []).append(port)
    singles = [
        (bindings[0], tuple(dict.fromkeys(b.host_ip or "*" for b in bindings)))
        for bindings in groups.values()
    ]
    singles.sort(
        key=lambda item: (
            item[0].origin.line or 0 if item[0].origin else 0,
            item[0].protocol,
            item[0].host_ip,
            item[0].container_port,
        )
    )
    # Runs grow in place: rebuilding a run's tuple for each port copied 65,535 ports 2 billion times.
    runs: list[tuple[list[PortBinding], tuple[str, ...]]] = []
    for port, addresses in singles:
        if runs and runs[-1][1] == addresses and _joins(runs[-1][0][-1], port):
            runs[-1][0].append(port)
        else:
            runs.append(([port], addresses))
    return [PortEntry(tuple(bindings), addresses) for bindings, addresses in runs]


def entries(
    snapshot: Snapshot, wanted: Callable[[PortBinding], bool] | None = None
) -> Iterator[tuple[Container, PortEntry]]:
    """Every container's port entries passing ``wanted``."""
    for container in snapshot.containers:
        for entry in port_entries(container, wanted):
            yield container, entry


def reported_as_all_interfaces(entry: PortEntry, snapshot: Snapshot) -> bool:
    """Whether PORT001 treats the entry as published on every interface (an empty host IP
    counts unless the daemon's ``ip`` option is known to narrow it)."""
    if not entry.first.is_all_interfaces:
        return False
    bind = effective_bind_ip(entry.first, snapshot)
    return not (entry.addresses == ("*",) and bind and bind not in ("0.0.0.0", "::"))


# -- what the exposure analysis found (Snapshot.exposure, computed once by the pipeline) ------
def reach_of(snapshot: Snapshot, container: Container, port: PortBinding) -> PortReach | None:
    """The exposure analysis' answers for a container port; ``None`` when it did not run."""
    if snapshot.exposure is None:
        return None
    return snapshot.exposure.port(container.name, port.container_port, port.protocol)


def _zones(cells: tuple[ZoneReach, ...]) -> str:
    return describe_zones(cells) or "no zone"


def who_reaches(pr: PortReach) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A sentence on who really reaches the port, and its evidence. Never says "protected"
    when the answer is unknown: an undecided outside answer is said as such."""
    outside = pr.outside
    if outside is Reach.REACHABLE:
        cells = pr.zones(Reach.REACHABLE, OUTSIDE_KINDS)
        first = cells[0]
        routed = " by routing to the container" if first.via == "direct" else ""
        text = (f" The host's firewall lets clients from outside reach it ({_zones(cells)}, e.g. at "
                f"{first.destination}{routed}).")  # fmt: skip
        return text, (("exposure", "reachable from outside"), ("reachable_from", ", ".join(c.zone for c in cells)),
                      ("trace", first.trace))  # fmt: skip
    if outside is Reach.BLOCKED:
        inside = pr.zones(Reach.REACHABLE)
        where = "nowhere else" if not inside else _zones(inside)
        if inside and all(c.kind == "host" for c in inside):
            where = "the host itself only (loopback and local processes)"
        blocked = pr.zones(Reach.BLOCKED, OUTSIDE_KINDS)
        text = (
            f" The host's firewall blocks it from outside ({_zones(blocked)}); it is reachable from {where}."
        )
        trace = next(
            (c.trace for c in blocked if c.trace and not c.note), blocked[0].trace if blocked else ""
        )
        return text, (("exposure", "blocked from outside"), ("reachable_from", ", ".join(c.zone for c in inside)),
                      ("trace", trace))  # fmt: skip
    unknown = pr.zones(Reach.UNKNOWN, OUTSIDE_KINDS)
    if outside is Reach.UNKNOWN:
        reasons = (
            "; ".join(dict.fromkeys(r for c in unknown for r in c.reasons))
            or "a rule the model cannot decide"
        )
        text = (f" Whether the host's firewall lets outside clients reach it could not be decided ({_zones(unknown)}: "
                f"{reasons}); treat it as reachable.")  # fmt: skip
        return text, (("exposure", "unknown from outside"), ("undecided_from", ", ".join(c.zone for c in unknown)),
                      ("trace", unknown[0].trace))  # fmt: skip
    return (" The exposure analysis found no outside interface on this host, so who can reach it from outside "
            "is unknown.", (("exposure", "unknown from outside"),))  # fmt: skip


def entry_reach(
    snapshot: Snapshot, container: Container, bindings: tuple[PortBinding, ...]
) -> PortReach | None:
    """The answers of an entry's worst-exposed port: one reachable from outside if any is, else
    one undecided, else the first; ``None`` when the analysis did not cover them all."""
    found = [reach_of(snapshot, container, b) for b in bindings]
    if not found or any(pr is None for pr in found):
        return None
    rank = {Reach.REACHABLE: 0, None: 1, Reach.UNKNOWN: 1, Reach.BLOCKED: 2}
    return min((pr for pr in found if pr is not None), key=lambda pr: rank[pr.outside])
