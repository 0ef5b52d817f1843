"""Effective exposure: who can reach each container port, computed from the host's firewall.

``analyze_exposure(containers, networks, firewall, network, daemon)`` builds the zones (each
non-Docker interface as a LAN and, where the default route leaves, as the internet; the host
itself; each Docker bridge network), the targets (every known port of every running
container) and, for each pair, the connection attempts a client in the zone can make: to a
published host port, and straight to the container's address where the zone can route to it.
Each attempt is followed through netfilter by ``PathModel``; the cell says reachable if one
attempt is, unknown if none is but one is unknown, blocked otherwise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import cast

import msgspec

from auditor.exposure.attempts import AttemptKeys, AttemptMemo, bind
from auditor.exposure.facts import FirewallFacts, HostNetwork
from auditor.exposure.hostnet import Interface, ProxyListener
from auditor.exposure.matrix import (
    Attempt,
    Cell,
    ExposureMatrix,
    PortTarget,
    Verdict,
    Zone,
    ZoneKind,
    render_trace,
)
from auditor.exposure.packet import first_packet, ip_int, ip_text
from auditor.exposure.paths import BLOCKED, REACHABLE, Goal, PathModel, SocketTemplate
from auditor.exposure.walk import Branch, Flow
from auditor.model.records import Container, DaemonFacts, Network, PortBinding

CLIENT_SPORT = 40000
INTERNET_V4 = ("203.0.113.254", "198.51.100.254", "192.0.2.254")
INTERNET_V6 = ("2001:db8:ffff::1", "2001:db8::fffe")
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"


class _Bridge(msgspec.Struct, frozen=True):
    network: str
    bridge: str
    v4: tuple[str, int] | None  # gateway address, prefix length
    v6: tuple[str, int] | None
    source_v4: str | None
    source_v6: str | None


class _Endpoint(msgspec.Struct, frozen=True):
    network: str
    bridge: str | None
    v4: str | None
    v6: str | None


def bridge_name(network: Network) -> str | None:
    """The Linux bridge of a Docker bridge network (``None`` when it cannot be told)."""
    if network.driver not in (None, "bridge"):
        return None
    named = network.option(BRIDGE_NAME_OPTION)
    if named:
        return named
    if network.is_default_bridge:
        return "docker0"
    return f"br-{network.id[:12]}" if network.id else None


def _free_address(net: ipaddress.IPv4Network | ipaddress.IPv6Network, taken: set[str]) -> str | None:
    """The highest host address of ``net`` that nobody uses (the representative source)."""
    if net.num_addresses < 4:
        return None
    candidate = int(net.broadcast_address) - 1
    lowest = int(net.network_address) + 1
    while candidate >= lowest and candidate >= int(net.broadcast_address) - 64:
        text = str(ipaddress.ip_address(candidate))
        if text not in taken:
            return text
        candidate -= 1
    return None


def _internet_source(candidates: Sequence[str], model: PathModel, family: int) -> str | None:
    for text in candidates:
        fam, value = ip_int(text)
        route = model.lookup(fam, value)
        if (route is None or route.prefixlen == 0) and not model.is_local(fam, value):
            return text
    return None


def _bridges(networks: Sequence[Network], hostnet: HostNetwork, taken: set[str]) -> dict[str, _Bridge]:
    out = {}
    for net in networks:
        name = bridge_name(net)
        iface = hostnet.interface(name) if name else None
        if name is None or iface is None:
            continue
        a4, a6 = iface.first(4), iface.first(6)
        src4 = _free_address(a4.network, taken) if a4 else None
        src6 = _free_address(a6.network, taken) if a6 else None
        out[net.name] = _Bridge(
            net.name,
            name,
            (a4.address, a4.prefixlen) if a4 else None,
            (a6.address, a6.prefixlen) if a6 else None,
            src4,
            src6,
        )
    return out


def _outside_interfaces(hostnet: HostNetwork, bridges: set[str]) -> list[Interface]:
    out = []
    for iface in hostnet.interfaces or ():
        if iface.name == "lo" or iface.name in bridges or iface.master is not None or not iface.up:
            continue
        if iface.name.startswith("veth") or iface.link_type == "loopback":
            continue
        if iface.first(4) or iface.first(6):
            out.append(iface)
    return out


def build_zones(
    hostnet: HostNetwork, bridges: dict[str, _Bridge], model: PathModel, taken: set[str]
) -> tuple[Zone, ...]:
    """LAN and internet zones per outside interface, the host, one zone per bridge network."""
    zones: list[Zone] = []
    bridge_names = {b.bridge for b in bridges.values()}
    defaults = {r.dev for r in (*model.routes[4], *model.routes[6]) if r.prefixlen == 0}
    for iface in _outside_interfaces(hostnet, bridge_names):
        a4, a6 = iface.first(4), iface.first(6)
        s4 = _free_address(a4.network, taken) if a4 else None
        s6 = _free_address(a6.network, taken) if a6 else None
        subnets = ", ".join(str(a.network) for a in (a4, a6) if a)
        zones.append(
            Zone(
                f"lan:{iface.name}",
                ZoneKind.LAN,
                iface.name,
                None,
                s4,
                s6,
                True,
                f"a neighbour on {iface.name}'s subnet {subnets} (source {s4 or s6}), assumed to route "
                "the Docker subnets via this host",
            )
        )
        if iface.name in defaults:
            i4 = _internet_source(INTERNET_V4, model, 4) if a4 else None
            i6 = _internet_source(INTERNET_V6, model, 6) if a6 else None
            zones.append(
                Zone(
                    f"internet:{iface.name}",
                    ZoneKind.INTERNET,
                    iface.name,
                    None,
                    i4,
                    i6,
                    False,
                    f"a host beyond the default route on {iface.name} (source {i4 or i6}), which can only "
                    "address the host's own addresses",
                )
            )
    zones.append(
        Zone("host", ZoneKind.HOST, None, None, None, None, True, "a process on the Docker host itself")
    )
    for b in bridges.values():
        zones.append(
            Zone(
                f"network:{b.network}",
                ZoneKind.NETWORK,
                b.bridge,
                b.network,
                b.source_v4,
                b.source_v6,
                True,
                f"a container on Docker network {b.network} (bridge {b.bridge}, source {b.source_v4 or b.source_v6})",
            )
        )
    return tuple(zones)


def _with_source(zone: Zone, v4: str | None, v6: str | None) -> Zone:
    given = ", ".join(a for a in (v4, v6) if a) or "none"
    return msgspec.structs.replace(
        zone, source_v4=v4, source_v6=v6, description=f"{zone.description}; source given: {given}"
    )


def _endpoints(
    container: Container, by_name: dict[str, Container], bridges: dict[str, _Bridge]
) -> tuple[str, tuple[_Endpoint, ...]]:
    """The network mode that decides and the endpoints of the namespace the ports live in."""
    owner = container
    joined = container.joined_namespace
    if joined:
        owner = by_name.get(joined) or next(
            (c for c in by_name.values() if c.id and c.id.startswith(joined)), container
        )
    mode = "host" if owner.uses_host_network else "none" if owner.network_mode == "none" else "bridge"
    eps = tuple(
        _Endpoint(
            e.network,
            bridges[e.network].bridge if e.network in bridges else None,
            e.ipv4_address,
            e.ipv6_address,
        )
        for e in owner.endpoints
    )
    return mode, eps


def _ports(container: Container) -> dict[tuple[int, str], list[PortBinding]]:
    ports: dict[tuple[int, str], list[PortBinding]] = {}
    for p in container.ports:
        ports.setdefault((p.container_port, p.protocol), [])
    for p in container.published_ports:
        if p.host_port is not None:
            ports[(p.container_port, p.protocol)].append(p)
    return ports


def _binding_families(b: PortBinding) -> tuple[int, ...]:
    if b.host_ip in ("", "0.0.0.0", "::"):
        return {"": (4, 6), "0.0.0.0": (4,), "::": (6,)}[b.host_ip]
    try:
        return (ipaddress.ip_address(b.host_ip).version,)
    except ValueError:
        return ()


def synthesized_proxies(containers: Iterable[Container]) -> tuple[ProxyListener, ...]:
    """The docker-proxy processes an engine with the userland proxy starts for these
    bindings (used when the processes themselves were not read)."""
    out = []
    for c in containers:
        for b in c.published_ports:
            if b.host_port is None:
                continue
            for ep in c.endpoints:
                if not ep.ipv4_address:
                    continue
                for fam in _binding_families(b):
                    host_ip = b.host_ip if b.host_ip not in ("",) else ("0.0.0.0" if fam == 4 else "::")
                    out.append(
                        ProxyListener(b.protocol, host_ip, b.host_port, ep.ipv4_address, b.container_port)
                    )
                break
    return tuple(out)


class _Planner:
    """Builds the attempts of each (zone, target) and follows them with the path model."""

    def __init__(self, model: PathModel, hostnet: HostNetwork, bridges: dict[str, _Bridge]):
        self.model = model
        self.hostnet = hostnet
        self.bridges = bridges
        outside = _outside_interfaces(hostnet, {b.bridge for b in bridges.values()})
        self._host_addresses = {
            fam: next((a.address for i in outside for a in (i.first(fam),) if a), None) for fam in (4, 6)
        }
        self._goals: dict[tuple, Goal] = {}
        self._memos: dict[tuple, AttemptMemo] = {}
        self._keys = AttemptKeys(model.attempt_getter)
        self._published: dict[tuple[str, int, str], list[str]] = {}
        self._ints: dict[str, tuple[int, int]] = {}  # address text -> (family, integer)
        self._texts: dict[tuple[int, int], str] = {}

    def _int(self, text: str) -> tuple[int, int]:
        found = self._ints.get(text)
        if found is None:
            found = self._ints[text] = ip_int(text)
        return found

    def _text(self, family: int, value: int) -> str:
        found = self._texts.get((family, value))
        if found is None:
            found = self._texts[(family, value)] = ip_text(family, value)
        return found

    def _iface_address(self, name: str | None, family: int) -> str | None:
        iface = self.hostnet.interface(name) if name else None
        a = iface.first(family) if iface else None
        return a.address if a else None

    def _host_address(self, family: int) -> str | None:
        return self._host_addresses[family]

    def goal(self, proto: str, port: int, endpoints: tuple[_Endpoint, ...]) -> Goal:
        key = (proto, port, endpoints)
        found = self._goals.get(key)
        if found is None:
            addresses = frozenset(
                (fam, ip_int(addr)[1], ep.bridge)
                for ep in endpoints
                if ep.bridge
                for fam, addr in ((4, ep.v4), (6, ep.v6))
                if addr
            )
            found = self._goals[key] = Goal(proto, port, addresses)
        return found

    def _source(self, zone: Zone, family: int) -> str | None:
        return zone.source_v4 if family == 4 else zone.source_v6

    def _run(
        self, zone: Zone, via: str, family: int, dst: str, dport: int, goal: Goal, bridged: bool = False
    ) -> tuple[str, _Core] | None:
        """(source, answer) of one attempt. Attempts are remembered per zone by what they
        read of their target (``attempts``), so most targets reuse another's answer."""
        model = self.model
        fam, dst_value = self._int(dst)
        host = zone.kind is ZoneKind.HOST
        if host:
            src_value = model.source_for(fam, dst_value)
            src_text = self._text(fam, 0 if src_value is None else src_value)
        else:
            source = self._source(zone, family)
            if source is None:
                return None
            src_text = source
        key = (zone.id, via, fam, goal.proto, bridged)
        memo = self._memos.get(key)
        if memo is None:
            memo = self._memos[key] = AttemptMemo(self._keys)
            memo.enabled = model.memoize_attempts
        found = memo.get(fam, dst_value, dport, goal) if memo.enabled else None
        if found is None and not memo.enabled:
            return src_text, _core(
                self._branches(zone, fam, dst_value, dport, goal, bridged, False), model.render
            )
        if found is None:
            with model.observing() as seen:
                branches = self._branches(zone, fam, dst_value, dport, goal, bridged, True)
            templated = any(isinstance(b, SocketTemplate) for b in branches)
            found = (True, branches) if templated else (False, _core(branches, model.render))
            memo.put(bind(seen.seen, fam, dst_value, dport), fam, dst_value, dport, goal, found)
        templated, value = found
        if templated:
            return src_text, _core(model.instantiate(cast(list, value), goal, dst_value, dport), model.render)
        return src_text, cast(_Core, value)

    def _branches(
        self, zone: Zone, fam: int, dst: int, dport: int, goal: Goal, bridged: bool, templates: bool
    ) -> list[Branch]:
        if zone.kind is ZoneKind.HOST:
            src_value = self.model.source_for(fam, dst)  # observed: the source follows the route
            if src_value is None:
                return [
                    Branch(BLOCKED, Flow(first_packet(fam, goal.proto, 0, CLIENT_SPORT, dst, dport, None)))
                ]
            pkt = first_packet(fam, goal.proto, src_value, CLIENT_SPORT, dst, dport, None)
            return self.model.local_out(Flow(pkt), goal, templates)
        src = ip_int(self._source(zone, fam) or "")[1]
        pkt = first_packet(fam, goal.proto, src, CLIENT_SPORT, dst, dport, zone.interface, bridged)
        return self.model.arrive(Flow(pkt), goal, templates)

    def attempts(
        self,
        zone: Zone,
        target: PortTarget,
        mode: str,
        endpoints: tuple[_Endpoint, ...],
        bindings: list[PortBinding],
        every: bool = False,
        goal: Goal | None = None,
    ) -> tuple[list[Attempt], str]:
        """The attempts a client in ``zone`` can make to ``target`` (``goal``: the target's,
        when the caller has it), and a note when there is none."""
        if mode == "none":
            return [], "network mode none: the container has no network"
        out = []
        seen = set()
        planned = False
        for via, fam, dst, dport, wanted, bridged in self._plans(
            zone, target, mode, endpoints, bindings, goal
        ):
            planned = True
            key = (via, fam, dst, dport)
            if key in seen:
                continue
            seen.add(key)
            run = self._run(zone, via, fam, dst, dport, wanted, bridged)
            if run is None:
                continue
            src, core = run
            destination = f"[{dst}]:{dport}" if fam == 6 or ":" in dst else f"{dst}:{dport}"
            attempt = Attempt(via, fam, src, destination, *core)
            out.append(attempt)
            if attempt.verdict is Verdict.REACHABLE and not every:
                break  # the cell is reachable: later attempts cannot change that (nor are they planned)
        note = (
            ""
            if planned
            else "no path: the port is not published towards this zone and the zone cannot address the container"
        )
        return out, note

    def _plans(
        self,
        zone: Zone,
        target: PortTarget,
        mode: str,
        endpoints: tuple[_Endpoint, ...],
        bindings: list[PortBinding],
        goal: Goal | None,
    ) -> Iterator[tuple[str, int, str, int, Goal, bool]]:
        """(via, family, destination, port, goal, bridged) of each attempt, in the order they
        are tried: published host ports first, then the container's own addresses."""
        port, proto = target.port, target.protocol
        zone_bridge = self.bridges.get(zone.network or "")
        if mode == "host":
            for fam in (4, 6):
                dst = self._natural_host_address(zone, fam, zone_bridge)
                if dst:
                    yield "host", fam, dst, port, Goal(proto, port, on_host=True), False
            return
        goal = goal or self.goal(proto, port, endpoints)
        if goal.addresses:
            for b in bindings:
                for fam in _binding_families(b):
                    for dst in self._destinations(zone, fam, b, zone_bridge):
                        yield "published", fam, dst, b.host_port or 0, goal, False
        if zone.kind is ZoneKind.INTERNET:
            return
        for ep in endpoints:
            if ep.bridge is None:
                continue
            bridged = (
                zone.kind is ZoneKind.NETWORK and zone_bridge is not None and zone_bridge.bridge == ep.bridge
            )
            for fam, addr in ((4, ep.v4), (6, ep.v6)):
                if addr:
                    yield "direct", fam, addr, port, goal, bridged

    def _natural_host_address(self, zone: Zone, family: int, zone_bridge: _Bridge | None) -> str | None:
        if zone.kind is ZoneKind.HOST:
            return "127.0.0.1" if family == 4 else "::1"
        if zone.kind is ZoneKind.NETWORK:
            if zone_bridge is None:
                return None
            gw = zone_bridge.v4 if family == 4 else zone_bridge.v6
            return gw[0] if gw else None
        return self._iface_address(zone.interface, family)

    def _destinations(
        self, zone: Zone, family: int, b: PortBinding, zone_bridge: _Bridge | None
    ) -> list[str]:
        key = (zone.id, family, b.host_ip)
        found = self._published.get(key)
        if found is None:
            found = self._published[key] = self._published_destinations(zone, family, b, zone_bridge)
        return found

    def _published_destinations(
        self, zone: Zone, family: int, b: PortBinding, zone_bridge: _Bridge | None
    ) -> list[str]:
        wildcard = b.host_ip in ("", "0.0.0.0", "::")
        if wildcard:
            if zone.kind is ZoneKind.HOST:
                out = ["127.0.0.1" if family == 4 else "::1"]
                other = self._host_address(family)
                return out + ([other] if other else [])
            natural = self._natural_host_address(zone, family, zone_bridge)
            return [natural] if natural else []
        fam, value = ip_int(b.host_ip)
        if fam != family:
            return []
        loopback = ipaddress.ip_address(b.host_ip).is_loopback
        if zone.kind is ZoneKind.HOST:
            return [b.host_ip]
        if zone.kind is ZoneKind.NETWORK:
            return [b.host_ip] if not loopback and self.model.is_local(fam, value) else []
        own = self.hostnet.interface(zone.interface or "")
        if own and any(a.address == b.host_ip for a in own.addresses):
            return [b.host_ip]
        if zone.kind is ZoneKind.LAN and (
            self.model.is_local(fam, value) and not loopback or (loopback and fam == 4)
        ):
            return [b.host_ip]  # a neighbour can send to any host address, even 127.0.0.1 (moby 45610)
        return []


_Core = tuple[Verdict, tuple, tuple[str, ...], tuple[str, ...], tuple, str]
_VERDICTS = {REACHABLE: Verdict.REACHABLE, BLOCKED: Verdict.BLOCKED}  # a branch's end -> the answer


def _core(branches: list[Branch], render: Callable[[tuple], str] = render_trace) -> _Core:
    """An attempt's answer from the ways its packets went: (verdict, steps, reasons,
    undecided, alternatives, rendered trace), as ``Attempt`` takes them after its address
    fields."""
    if len(branches) == 1 and not branches[0].flow.undecided and branches[0].verdict in (REACHABLE, BLOCKED):
        b = branches[0]  # the common case: one way through, nothing assumed
        steps = b.flow.steps
        return _VERDICTS[b.verdict], steps, b.flow.reasons, (), (), render(steps)
    verdicts = {b.verdict for b in branches}
    undecided = tuple(sorted(frozenset().union(*(b.flow.undecided for b in branches)))) if branches else ()
    reasons = tuple(dict.fromkeys(r for b in branches for r in b.flow.reasons))
    if verdicts == {REACHABLE}:
        verdict = Verdict.REACHABLE
    elif verdicts <= {BLOCKED}:
        verdict = Verdict.BLOCKED
    else:
        verdict = Verdict.UNKNOWN
        if REACHABLE in verdicts and BLOCKED in verdicts and undecided:
            reasons = reasons + (f"the answer depends on {', '.join(undecided)}",)
    wanted = verdict.value.upper()
    primary = next((b for b in branches if b.verdict == wanted), branches[0] if branches else None)
    alternatives = (
        tuple((Verdict(b.verdict.lower()), b.flow.steps) for b in branches if b is not primary)
        if verdict is Verdict.UNKNOWN
        else ()
    )
    steps = primary.flow.steps if primary else ()
    return verdict, steps, reasons, undecided, alternatives, render(steps)


def _cell_verdict(attempts: Sequence[Attempt]) -> Verdict:
    if len(attempts) == 1:
        return attempts[0].verdict
    verdicts = {a.verdict for a in attempts}
    if Verdict.REACHABLE in verdicts:
        return Verdict.REACHABLE
    if Verdict.UNKNOWN in verdicts:
        return Verdict.UNKNOWN
    return Verdict.BLOCKED


def _relation(zone: Zone, endpoints: tuple[_Endpoint, ...], mode: str) -> str:
    if zone.kind is ZoneKind.HOST:
        return "host"
    if zone.kind is not ZoneKind.NETWORK:
        return "outside"
    if mode == "bridge" and any(ep.network == zone.network for ep in endpoints):
        return "same-network"
    return "other-network"


def analyze_exposure(
    containers: Sequence[Container],
    networks: Sequence[Network],
    firewall: FirewallFacts,
    network: HostNetwork,
    daemon: DaemonFacts | None = None,
    every_attempt: bool = False,
    sources: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> ExposureMatrix:
    """The exposure matrix of one host (pure: everything comes in as arguments).

    A cell's attempts are tried in order (published host ports, then the container's own
    address) and, unless ``every_attempt``, the first reachable one ends the cell: the
    verdict cannot change any more. ``every_attempt`` follows them all (for comparisons with
    real packets, which try each way). ``sources`` replaces the representative source
    addresses of zones, ``{zone id: (IPv4, IPv6)}``: the answers for a real client there."""
    zones, notes, rows = analysis_rows(
        containers, networks, firewall, network, daemon, every_attempt, sources
    )
    targets: list[PortTarget] = []
    cells: list[Cell] = []
    for target, target_cells in rows:
        targets.append(target)
        cells.extend(target_cells)
    return ExposureMatrix(zones, tuple(targets), tuple(cells), notes)


def analysis_rows(
    containers: Sequence[Container],
    networks: Sequence[Network],
    firewall: FirewallFacts,
    network: HostNetwork,
    daemon: DaemonFacts | None = None,
    every_attempt: bool = False,
    sources: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> tuple[tuple[Zone, ...], tuple[str, ...], Iterator[tuple[PortTarget, tuple[Cell, ...]]]]:
    """``analyze_exposure`` row by row: the zones, the notes, and an iterator of each target
    with its cells (one per zone), computed as it is read (so a caller can pass rows on
    before the last is done)."""
    notes: list[str] = list(firewall.problems)
    if firewall.nft is None and not firewall.problems:
        notes.append("nft -j list ruleset was not read: nftables tables outside iptables were not checked")
    proxies = network.proxies
    if proxies is None:
        if daemon is not None and daemon.userland_proxy is False:
            proxies = ()
        elif daemon is not None and daemon.userland_proxy:
            proxies = synthesized_proxies(containers)
            notes.append(
                "docker-proxy processes were not read: assumed one per published binding (userland-proxy on)"
            )
        else:
            notes.append("docker-proxy processes were not read: answers through a host socket are unknown")
    model = PathModel(firewall, network, proxies)
    taken = {e.ipv4_address for c in containers for e in c.endpoints if e.ipv4_address}
    taken |= {e.ipv6_address for c in containers for e in c.endpoints if e.ipv6_address}
    taken |= {a.address for i in network.interfaces or () for a in i.addresses}
    bridges = _bridges(networks, network, taken)
    model.bridges = frozenset(b.bridge for b in bridges.values())
    zones = build_zones(network, bridges, model, taken)
    if sources:
        zones = tuple(_with_source(z, *sources[z.id]) if z.id in sources else z for z in zones)
    if network.interfaces is None:
        notes.append("ip -j addr was not read: no zones but the host and answers are unknown")
    skipped = [c.name for c in containers if c.state not in (None, "running")]
    if skipped:
        notes.append(f"not running, not analysed: {', '.join(sorted(skipped))}")
    planner = _Planner(model, network, bridges)
    return zones, tuple(notes), _rows(planner, containers, zones, every_attempt)


def _rows(
    planner: _Planner, containers: Sequence[Container], zones: tuple[Zone, ...], every_attempt: bool
) -> Iterator[tuple[PortTarget, tuple[Cell, ...]]]:
    by_name = {c.name: c for c in containers}
    for container in sorted(containers, key=lambda c: c.name):
        if container.state not in (None, "running"):
            continue
        mode, endpoints = _endpoints(container, by_name, planner.bridges)
        for (port, proto), bindings in sorted(_ports(container).items()):
            if proto not in ("tcp", "udp"):
                continue
            target = PortTarget(
                container.name,
                container.id,
                port,
                proto,
                mode,
                tuple(b.display() for b in bindings),
                tuple(f"{e.network}={a}" for e in endpoints for a in (e.v4, e.v6) if a),
            )
            goal = planner.goal(proto, port, endpoints)
            cells = []
            for zone in zones:
                attempts, note = planner.attempts(
                    zone, target, mode, endpoints, bindings, every_attempt, goal
                )
                cells.append(
                    Cell(
                        zone.id,
                        container.name,
                        port,
                        proto,
                        _relation(zone, endpoints, mode),
                        _cell_verdict(attempts),
                        tuple(attempts),
                        note,
                    )
                )
            yield target, tuple(cells)
