"""The normalized model every collector produces and every rule reads.

All objects are frozen and hold tuples, so a snapshot can be shared between rules without any
rule being able to change what another one sees. ``None`` always means "unknown": a compose
file cannot know the daemon's settings, and rules must not fire on unknowns.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from auditor.model.exposure import Exposure, HostDumps
from auditor.model.suppress import Suppression


class SourceKind(str, Enum):
    """Where a piece of the model was read from."""

    ENGINE = "engine"
    COMPOSE = "compose"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class Origin:
    """Where an object (or one item of it) came from, so reports can point at it.

    ``uri`` is a compose file path relative to the scanned root, a snapshot file path, or a
    stable synthetic URI for live engine objects (``docker://HOST/container/NAME``).
    """

    kind: SourceKind
    uri: str
    line: int | None = None
    column: int | None = None


ALL_INTERFACES_V4 = "0.0.0.0"
ALL_INTERFACES_V6 = "::"


@dataclass(frozen=True)
class PortBinding:
    """One published (or merely exposed) container port.

    ``host_ip`` is kept as written: ``""`` means "the daemon's default bind address", which is
    all interfaces unless the daemon's ``ip`` option or the network's ``host_binding_ipv4``
    says otherwise. ``host_port`` ``None`` means an ephemeral port; ``host_port_end`` is set
    only when one container port is published on a host port range.
    """

    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int | None = None
    host_port_end: int | None = None
    published: bool = True
    origin: Origin | None = None
    ephemeral: bool = False  # the engine chose the host port (shown in host_port while running)
    # index of the compose `ports` item it was written in (a range is one item); bookkeeping
    # for grouping, not part of what the binding is
    entry: int | None = field(default=None, compare=False)

    @property
    def requested_host_port(self) -> int | None:
        """The host port as configured: ``None`` when the engine picks one."""
        return None if self.ephemeral else self.host_port

    @property
    def is_all_interfaces(self) -> bool:
        """True when the binding listens on every interface (IPv4 or IPv6 wildcard)."""
        return self.published and self.host_ip in ("", ALL_INTERFACES_V4, ALL_INTERFACES_V6)

    @property
    def is_loopback(self) -> bool:
        """True when the binding listens only on a loopback address."""
        if not self.published or not self.host_ip:
            return False
        try:
            return ipaddress.ip_address(self.host_ip).is_loopback
        except ValueError:
            return self.host_ip == "localhost"

    @property
    def beyond_loopback(self) -> bool:
        """Reachable from somewhere other than the host itself."""
        return self.published and not self.is_loopback

    @property
    def host_port_count(self) -> int:
        """How many host ports this binding occupies (1 for a single port)."""
        if self.host_port is None:
            return 1
        return (self.host_port_end or self.host_port) - self.host_port + 1

    def display(self) -> str:
        """Human-readable form, e.g. ``0.0.0.0:5432->5432/tcp`` or ``[::]:80->80/tcp``."""
        if not self.published:
            return f"{self.container_port}/{self.protocol} (exposed only)"
        ip = self.host_ip or "*"
        if ":" in ip:
            ip = f"[{ip}]"
        if self.host_port is None:
            host = "ephemeral"
        elif self.host_port_end and self.host_port_end != self.host_port:
            host = f"{self.host_port}-{self.host_port_end}"
        else:
            host = str(self.host_port)
        return f"{ip}:{host}->{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class Mount:
    """A bind mount or volume seen in a container; only paths, never contents."""

    source: str
    target: str
    type: str = "bind"
    read_only: bool = False
    origin: Origin | None = None


@dataclass(frozen=True)
class Endpoint:
    """A container's attachment to one network."""

    network: str
    network_id: str | None = None
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    aliases: tuple[str, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True)
class Container:
    """A container (live, saved, or a compose service that would become one).

    Environment variables and commands are never part of the model: they hold secrets.
    Capabilities are canonical: upper case without the ``CAP_`` prefix (``NET_ADMIN``, ``ALL``).
    Labels that look like credentials are redacted by the normalizers.
    """

    name: str
    image: str | None = None
    id: str | None = None
    state: str | None = None
    network_mode: str = "default"
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[PortBinding, ...] = ()
    publish_all_ports: bool | None = None
    privileged: bool | None = None
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    project: str | None = None
    service: str | None = None
    origin: Origin | None = None
    network_mode_origin: Origin | None = None
    privileged_origin: Origin | None = None  # the `privileged:` line of a compose service
    cap_add_origins: tuple[Origin | None, ...] = ()  # one per cap_add item, where it was written
    swarm_service: bool = False  # a swarm service (its ingress ports are open on every node)

    @property
    def kind(self) -> str:
        """``service`` for compose and swarm services, ``container`` otherwise."""
        compose = self.origin is not None and self.origin.kind is SourceKind.COMPOSE
        return "service" if compose or self.swarm_service else "container"

    @property
    def published_ports(self) -> tuple[PortBinding, ...]:
        """Ports Docker really publishes: none in host or none network mode, where Docker
        discards port mappings (host mode exposes every listening port instead: NET003)."""
        if self.network_mode in ("host", "none"):
            return ()
        return tuple(p for p in self.ports if p.published)

    @property
    def network_names(self) -> tuple[str, ...]:
        return tuple(e.network for e in self.endpoints)

    @property
    def uses_host_network(self) -> bool:
        return self.network_mode == "host"

    @property
    def joined_namespace(self) -> str | None:
        """The container or service whose network namespace this one shares, if any."""
        for prefix in ("container:", "service:"):
            if self.network_mode.startswith(prefix):
                return self.network_mode[len(prefix) :]
        return None

    def label(self, key: str) -> str | None:
        return self._label_index.get(key)

    @cached_property
    def _label_index(self) -> dict[str, str]:
        """Labels by key, the last of a repeated key winning. Rules ask for a dozen labels per
        port entry; a linear scan of a hundred labels each time cost seconds on 8,000 containers."""
        return dict(self.labels)

    def cap_add_origin(self, index: int) -> Origin | None:
        """Where the ``index``-th added capability was written (the container's origin if unknown)."""
        if 0 <= index < len(self.cap_add_origins) and self.cap_add_origins[index] is not None:
            return self.cap_add_origins[index]
        return self.origin

    @property
    def stable_name(self) -> str:
        """The name fingerprints use. A swarm task's container (``web.1.<task id>``) gets a new
        task id whenever it is rescheduled, so the id is dropped (``web.1``)."""
        task_id = self.label("com.docker.swarm.task.id")
        if task_id and self.name.endswith("." + task_id):
            return self.name[: -len(task_id) - 1]
        return self.name


@dataclass(frozen=True)
class Network:
    """A Docker network (live, saved, or declared in a compose file)."""

    name: str
    id: str | None = None
    driver: str | None = None
    scope: str | None = None
    internal: bool | None = None
    attachable: bool | None = None
    ingress: bool | None = None
    enable_ipv6: bool | None = None
    external: bool | None = None
    options: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    project: str | None = None
    origin: Origin | None = None

    def option(self, key: str) -> str | None:
        return dict(self.options).get(key)

    @property
    def is_default_bridge(self) -> bool:
        return self.name == "bridge" or self.option("com.docker.network.bridge.default_bridge") == "true"


@dataclass(frozen=True)
class DaemonFacts:
    """What is known about the Docker daemon and the host's firewall; ``None`` = unknown."""

    server_version: str | None = None
    api_version: str | None = None
    operating_system: str | None = None
    kernel_version: str | None = None
    hostname: str | None = None
    tcp_api_without_tls: bool | None = None
    tcp_api_endpoints: tuple[str, ...] = ()
    icc: bool | None = None
    userland_proxy: bool | None = None
    iptables: bool | None = None
    ip6tables: bool | None = None
    ipv6: bool | None = None
    default_bind_ip: str | None = None
    allow_direct_routing: bool | None = None
    firewalld_active: bool | None = None
    ufw_active: bool | None = None
    docker_user_filters: bool | None = None
    swarm_active: bool | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """One thing that was scanned: an engine, a compose project, or a saved snapshot."""

    kind: SourceKind
    name: str
    address: str


@dataclass(frozen=True)
class Snapshot:
    """Everything a rule may read about one target.

    ``notes`` records what happened while collecting (e.g. a container that vanished between
    list and inspect); ``not_checked`` names facts that could not be read, so reports can say
    so instead of implying a pass; ``incomplete`` says why only part of the target could be
    read (the target is then reported incomplete and the gate cannot pass): a compose fragment,
    or fields a saved inspect file holds in a form the normalizer could not read (a list where
    docker writes an object); ``suppressions`` are the inline ignores of compose comments and
    ``x-auditor`` (labels are read from the containers themselves). ``host_dumps`` are the
    firewall and network dumps of the daemon's namespace (``None``: not read); ``exposure`` is
    what the pipeline computed from them, once per target, for the rules to read.
    """

    target: Target
    daemon: DaemonFacts = field(default_factory=DaemonFacts)
    containers: tuple[Container, ...] = ()
    networks: tuple[Network, ...] = ()
    notes: tuple[str, ...] = ()
    not_checked: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()  # why this is a partial view (e.g. a compose fragment)
    warnings: tuple[str, ...] = ()  # what the user should hear about while collecting
    suppressions: tuple[Suppression, ...] = ()  # inline ignores written in the source
    host_dumps: HostDumps | None = None  # the daemon's namespace as the exposure analysis reads it
    exposure: Exposure | None = field(default=None, compare=False)  # computed once by the pipeline

    def network(self, name: str) -> Network | None:
        """The first network whose name or id is ``name`` (an index lookup, not a scan)."""
        return self._network_index.get(name)

    def members(self, network_name: str) -> tuple[Container, ...]:
        """Containers attached to a network, found through their endpoints, in snapshot order."""
        return self._member_index.get(network_name, ())

    def member_names(self, network_name: str) -> frozenset[str]:
        """The names of a network's members."""
        return self._member_name_index.get(network_name, frozenset())

    def has_other_member(self, network_name: str, name: str) -> bool:
        """Whether a container not named ``name`` is on the network, in constant time."""
        names = self.member_names(network_name)
        return len(names) > 1 or (len(names) == 1 and name not in names)

    # Built once on first use. Rules ask per container or per network; a linear scan each time
    # made them quadratic (10,000 containers: minutes). The fields stay frozen: a cached
    # property writes only the instance's __dict__, never a dataclass field.
    @cached_property
    def _network_index(self) -> dict[str, Network]:
        index: dict[str, Network] = {}
        for net in self.networks:
            index.setdefault(net.name, net)
            if net.id:
                index.setdefault(net.id, net)
        return index

    @cached_property
    def _member_index(self) -> dict[str, tuple[Container, ...]]:
        index: dict[str, list[Container]] = {}
        for container in self.containers:
            for name in dict.fromkeys(container.network_names):
                index.setdefault(name, []).append(container)
        return {name: tuple(members) for name, members in index.items()}

    @cached_property
    def _member_name_index(self) -> dict[str, frozenset[str]]:
        return {name: frozenset(c.name for c in members) for name, members in self._member_index.items()}


@dataclass(frozen=True)
class Resource:
    """What a finding is about, named the way people name it (no leading slash)."""

    kind: str  # container | service | network | host
    name: str
    id: str | None = None
    project: str | None = None
    host: str | None = None


def resource_of(subject: Container | Network | Target, target: Target) -> Resource:
    """Name the subject of an observation the way reports name it."""
    if isinstance(subject, Container):
        return Resource(
            kind=subject.kind,
            name=subject.service if subject.kind == "service" and subject.service else subject.name,
            id=subject.id,
            project=subject.project,
            host=target.name,
        )
    if isinstance(subject, Network):
        return Resource(
            kind="network", name=subject.name, id=subject.id, project=subject.project, host=target.name
        )
    return Resource(kind="host", name=subject.name, host=target.name)
