"""Tiny builders so a rule test is three lines: ``snapshot(container(ports=[port(80)]))``."""

from __future__ import annotations

from auditor.model.exposure import Exposure, ExposureZone, PortReach, Reach, ZoneReach
from auditor.model.records import (
    Container,
    DaemonFacts,
    Endpoint,
    Mount,
    Network,
    Origin,
    PortBinding,
    Snapshot,
    SourceKind,
    Target,
)

TARGET = Target(SourceKind.ENGINE, "testhost", "unix:///var/run/docker.sock")


def origin(
    uri: str = "docker://testhost/containers/x", line: int | None = None, kind: SourceKind = SourceKind.ENGINE
) -> Origin:
    return Origin(kind, uri, line)


def port(
    container_port: int,
    host_port: int | None = None,
    host_ip: str = "0.0.0.0",
    protocol: str = "tcp",
    host_port_end: int | None = None,
    published: bool = True,
    line: int | None = None,
) -> PortBinding:
    """A published port; ``host_port`` defaults to the container port."""
    if published and host_port is None and host_ip is not None:
        host_port = container_port
    return PortBinding(
        container_port=container_port,
        protocol=protocol,
        host_ip=host_ip,
        host_port=host_port if published else None,
        host_port_end=host_port_end,
        published=published,
        origin=origin(line=line) if line else None,
    )


def mount(source: str, target: str | None = None, read_only: bool = False, type: str = "bind") -> Mount:
    return Mount(source=source, target=target or source, type=type, read_only=read_only)


def container(
    name: str = "app",
    *,
    image: str = "example/app:1",
    ports=(),
    networks=("appnet",),
    network_mode: str | None = None,
    project: str | None = None,
    service: str | None = None,
    mounts=(),
    labels: dict | None = None,
    privileged: bool | None = False,
    cap_add=(),
    cap_drop=(),
    publish_all: bool | None = False,
    state: str = "running",
    compose: bool = False,
) -> Container:
    kind = SourceKind.COMPOSE if compose else SourceKind.ENGINE
    uri = "compose.yaml" if compose else f"docker://testhost/containers/{name}"
    if network_mode is None:
        network_mode = networks[0] if networks else "none"
    return Container(
        name=name,
        image=image,
        id=None if compose else f"id-{name}",
        state=state,
        network_mode=network_mode,
        endpoints=tuple(Endpoint(network=n) for n in networks),
        ports=tuple(ports),
        publish_all_ports=publish_all,
        privileged=privileged,
        cap_add=tuple(cap_add),
        cap_drop=tuple(cap_drop),
        mounts=tuple(mounts),
        labels=tuple(sorted((labels or {}).items())),
        project=project,
        service=service or (name if compose else None),
        origin=Origin(kind, uri),
    )


def network(
    name: str = "appnet",
    *,
    driver: str = "bridge",
    internal: bool | None = False,
    options: dict | None = None,
    project: str | None = None,
    enable_ipv6: bool | None = False,
    scope: str = "local",
) -> Network:
    return Network(
        name=name,
        id=f"net-{name}",
        driver=driver,
        scope=scope,
        internal=internal,
        enable_ipv6=enable_ipv6,
        options=tuple(sorted((options or {}).items())),
        project=project,
        origin=Origin(SourceKind.ENGINE, f"docker://testhost/networks/{name}"),
    )


DEFAULT_BRIDGE = network(
    "bridge",
    options={
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": "docker0",
    },
)


def reach(
    zone: str,
    verdict: str = "reachable",
    *,
    via: str | None = None,
    destination: str | None = None,
    trace: str = "",
    reasons=(),
    relation: str | None = None,
    published: str | None = "same",
) -> ZoneReach:
    """One zone's answer for a port: ``reach("lan:eth0", "blocked", trace="... DROP")``; the
    kind and relation follow from the zone's name. The answer through the published ports is
    the same verdict unless ``via`` is direct or host (then none), or ``published`` says."""
    kind = zone.split(":", 1)[0]
    if relation is None:
        relation = {"host": "host", "network": "other-network"}.get(kind, "outside")
    if published == "same":
        published = None if via in ("direct", "host") else verdict
    return ZoneReach(zone, kind, relation, Reach(verdict), via, destination, trace, tuple(reasons),
                     published=None if published is None else Reach(published))  # fmt: skip


def reach_port(
    container_name: str,
    container_port: int,
    *cells: ZoneReach,
    protocol: str = "tcp",
    bindings=(),
    network_mode: str = "bridge",
) -> PortReach:
    return PortReach(container_name, container_port, protocol, network_mode, tuple(bindings), cells)


def exposure(*ports: PortReach, notes=()) -> Exposure:
    """An exposure whose zones are those its cells name, in first-seen order."""
    zones = dict.fromkeys(c.zone for p in ports for c in p.cells)
    return Exposure(
        tuple(
            ExposureZone(z, z.split(":", 1)[0], z.split(":", 1)[1] if ":" in z else None, None, z)
            for z in zones
        ),
        tuple(ports),
        tuple(notes),
    )


def snapshot(
    *containers: Container,
    networks=None,
    daemon: DaemonFacts | None = None,
    target: Target = TARGET,
    exposure: Exposure | None = None,
) -> Snapshot:
    """A snapshot; networks default to the default bridge plus every network containers name."""
    if networks is None:
        names = sorted({n for c in containers for n in c.network_names} - {"bridge"})
        networks = (DEFAULT_BRIDGE, *(network(n) for n in names))
    return Snapshot(
        target=target,
        daemon=daemon or DaemonFacts(),
        containers=tuple(containers),
        networks=tuple(networks),
        exposure=exposure,
    )


def run_rule(rule, snap: Snapshot):
    """Findings of one rule on one snapshot, through the real engine (metadata, fingerprints)."""
    from auditor.audit.run import run_rules

    result = run_rules(snap, [rule])
    assert not result.errors, result.errors
    return list(result.findings)
