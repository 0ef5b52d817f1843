"""The network picture as records: which containers sit on which networks and what they publish.

Names only (never ids, environment variables or commands). Built from snapshots by
``topology_of``; the JSON result carries it under ``"topology"`` so a saved result can be drawn
again without its snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from auditor.model.records import Container, PortBinding, Resource, Snapshot, resource_of

# Exposure classes, worst first; the HTML colours them and its legend explains them.
EXPOSURES: tuple[tuple[str, str], ...] = (
    ("host", "host network (every port the process opens)"),
    ("all", "published on all interfaces"),
    ("address", "published on one host address"),
    ("loopback", "published on loopback only"),
    ("unpublished", "not published"),
)
EXPOSURE_NAMES = tuple(name for name, _ in EXPOSURES)
_EXPOSURE_RANK = {name: rank for rank, name in enumerate(EXPOSURE_NAMES)}


@dataclass(frozen=True)
class TopoNetwork:
    name: str
    driver: str | None
    internal: bool | None
    default_bridge: bool
    icc: bool | None


# What the exposure analysis found for clients outside the host (``None``: not analysed).
REACH_CLASSES: tuple[tuple[str, str], ...] = (
    ("reachable", "reachable from outside the host (firewall analysed)"),
    ("unknown", "undecided: the firewall analysis could not tell"),
    ("blocked", "blocked from outside by the host's firewall"),
)
_REACH_RANK = {name: rank for rank, (name, _) in enumerate(REACH_CLASSES)}


@dataclass(frozen=True)
class TopoPort:
    display: str
    exposure: str
    outside: str | None = None  # reachable | unknown | blocked, from the exposure analysis


@dataclass(frozen=True)
class TopoContainer:
    kind: str
    name: str
    state: str | None
    network_mode: str
    joins: str | None
    networks: tuple[str, ...]
    ports: tuple[TopoPort, ...]
    exposure: str
    outside: str | None = None  # the worst of its ports' answers

    @property
    def analysed(self) -> bool:
        return self.outside is not None


@dataclass(frozen=True)
class TopoTarget:
    target: str
    kind: str
    networks: tuple[TopoNetwork, ...]
    containers: tuple[TopoContainer, ...]


@dataclass(frozen=True)
class Topology:
    targets: tuple[TopoTarget, ...]


def port_exposure(port: PortBinding) -> str:
    """``all``, ``address``, ``loopback`` or ``unpublished`` for one binding."""
    if not port.published:
        return "unpublished"
    if port.is_all_interfaces:
        return "all"
    return "loopback" if port.is_loopback else "address"


def worst_exposure(names: Iterable[str]) -> str:
    return min(names, key=lambda n: _EXPOSURE_RANK[n], default="unpublished")


def _joined_name(c: Container, snap: Snapshot) -> str | None:
    """The name (never the id) of the container whose network namespace ``c`` shares."""
    joined = c.joined_namespace
    if not joined:
        return None
    for other in snap.containers:
        if joined in (other.name, other.service) or (other.id and other.id.startswith(joined)):
            return resource_of(other, snap.target).name
    return None if len(joined) >= 12 and all(ch in "0123456789abcdef" for ch in joined) else joined


def worst_reach(names: Iterable[str | None]) -> str | None:
    known = [n for n in names if n is not None]
    return min(known, key=lambda n: _REACH_RANK[n]) if known else None


def _outside(c: Container, p: PortBinding, snap: Snapshot) -> str | None:
    if snap.exposure is None:
        return None
    found = snap.exposure.port(c.name, p.container_port, p.protocol)
    verdict = found.outside if found is not None else None
    return verdict.value if verdict is not None else None


def _container(c: Container, snap: Snapshot) -> TopoContainer:
    res: Resource = resource_of(c, snap.target)
    ports = tuple(TopoPort(p.display(), port_exposure(p), _outside(c, p, snap)) for p in c.ports)
    exposure = "host" if c.uses_host_network else worst_exposure(p.exposure for p in ports)
    return TopoContainer(
        kind=res.kind,
        name=res.name,
        state=c.state,
        network_mode=c.network_mode.split(":", 1)[0] if c.joined_namespace else c.network_mode,
        joins=_joined_name(c, snap),
        networks=c.network_names,
        ports=ports,
        exposure=exposure,
        outside=worst_reach(p.outside for p in ports),
    )


def snapshot_topology(snap: Snapshot) -> TopoTarget:
    """One target's networks and containers, names only."""
    networks = []
    for n in snap.networks:
        icc = n.option("com.docker.network.bridge.enable_icc")
        networks.append(
            TopoNetwork(
                n.name, n.driver, n.internal, n.is_default_bridge, None if icc is None else icc == "true"
            )
        )
    return TopoTarget(
        snap.target.name,
        snap.target.kind.value,
        tuple(networks),
        tuple(_container(c, snap) for c in snap.containers),
    )


def topology_of(snapshots: Iterable[Snapshot]) -> Topology | None:
    """The picture of every snapshot; ``None`` when there is none."""
    targets = tuple(snapshot_topology(s) for s in snapshots)
    return Topology(targets) if targets else None
