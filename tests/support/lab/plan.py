"""The lab's plan: names, addresses, directories and daemon.json of every engine (pure).

Everything the lab will create is decided here before anything is created, so the plan can be
tested without root and a stale lab can be recognised by its names alone:

- network namespaces ``audlab-<pid>-<tag>-<role>`` (role: ``lan``, an engine or a host name),
  where ``<pid>`` is the owning process: a lab is reaped only when that process is gone;
- directories under ``<base>/<pid>-<tag>/`` with a ``state.json`` naming the owner;
- addresses only from 198.18.0.0/15 (RFC 2544 benchmarking space) and, for IPv6, from
  2001:2::/48 (RFC 5180, its IPv6 counterpart):

  ========================  =====================================================
  LAN (one /24)             inside 198.18.0.0/17; ``.1`` reserved as the macvlan gateway,
                            engines ``.11`` and up, outside hosts ``.101`` and up,
                            macvlan ranges ``.128/28`` per engine from the top half
  LAN IPv6                  2001:2:0:ff::/64, same host numbers
  engine *i* bridges        198.19.(16 i).0/20: default bridge ``.1/24``, pools the upper /21
  engine *i* IPv6 bridge    2001:2:0:i::/64 (``fixed-cidr-v6`` when the engine enables IPv6)
  swarm address pool        198.18.128.0/17 in /24s (ingress, overlays)
  internet (optional, /24)  198.18.127.0/24 behind a router (LAN ``.100``, internet
                            ``.1``) that the engines' default routes point at; its hosts
                            ``.101`` and up; IPv6 2001:2:0:fe::/64, router ``::1``
  ========================  =====================================================

Interfaces are created directly inside the lab's namespaces: nothing ever appears in the
machine's own namespace.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "audlab-"
BENCHMARK_NET = ipaddress.ip_network("198.18.0.0/15")
LAN_SPACE = ipaddress.IPv4Network("198.18.0.0/17")
SWARM_POOL = ipaddress.IPv4Network("198.18.128.0/17")
ENGINE_SPACE = ipaddress.IPv4Network("198.19.0.0/16")
LAN6 = ipaddress.IPv6Network("2001:2:0:ff::/64")
INTERNET = ipaddress.IPv4Network("198.18.127.0/24")
INTERNET6 = ipaddress.IPv6Network("2001:2:0:fe::/64")
ROUTER_HOST = 100  # the router's number on the LAN (its internet side is .1)
MAX_ENGINES = 8  # macvlan ranges: eight /28s in the LAN's upper half
MAX_HOSTS = 27  # .101 - .127
ENGINE_HOST_BASE = 10
OUTSIDE_HOST_BASE = 100
# Keys the lab sets itself; a test choosing them would break isolation or clean-up.
RESERVED_KEYS = frozenset(
    {"data-root", "graph", "exec-root", "pidfile", "hosts", "cgroup-parent", "deprecated-key-path"}
)
_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")


class LabError(RuntimeError):
    """The lab could not be built as asked (bad plan, a daemon that did not start, ...)."""


@dataclass(frozen=True)
class TcpApi:
    """A TCP listener for the engine's API; ``bind`` None means the engine's LAN address.

    With ``tls`` the daemon runs with ``tlsverify`` and a throwaway lab CA: clients need the
    lab's client certificate (``LabEngine.tls_env()``).
    """

    port: int = 2375
    tls: bool = False
    bind: str | None = None


@dataclass(frozen=True)
class EngineConfig:
    """One lab engine. ``daemon`` is merged over the lab's own daemon.json keys.

    ``forwarding``: IPv4 forwarding is already on in the namespace before dockerd starts (a
    router or Kubernetes node). dockerd then leaves the FORWARD policy at ACCEPT; by default
    forwarding is off, so dockerd turns it on itself and sets the policy to DROP, as on a
    freshly installed Docker host.
    """

    name: str
    daemon: Mapping[str, Any] = field(default_factory=dict)
    tcp: TcpApi | None = None
    macvlan_parent: bool = False
    forwarding: bool = False


@dataclass(frozen=True)
class EnginePlan:
    index: int
    config: EngineConfig
    netns: str
    lan_ip: ipaddress.IPv4Address
    lan_ip6: ipaddress.IPv6Address
    lan_port: str  # its veth's name on the LAN bridge
    macvlan_port: str | None  # the macvlan parent's peer on the LAN bridge
    bridge_cidr: ipaddress.IPv4Network
    address_pool: ipaddress.IPv4Network
    ipv6_cidr: ipaddress.IPv6Network
    macvlan_range: ipaddress.IPv4Network
    cgroup_parent: str
    directory: Path

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def socket(self) -> Path:
        return self.directory / "docker.sock"

    @property
    def data_root(self) -> Path:
        return self.directory / "data"

    @property
    def exec_root(self) -> Path:
        return self.directory / "exec"

    @property
    def pidfile(self) -> Path:
        return self.directory / "dockerd.pid"

    @property
    def config_file(self) -> Path:
        return self.directory / "daemon.json"

    @property
    def log_file(self) -> Path:
        return self.directory / "dockerd.log"

    @property
    def tcp_url(self) -> str | None:
        tcp = self.config.tcp
        if tcp is None:
            return None
        return f"tcp://{tcp.bind or self.lan_ip}:{tcp.port}"


@dataclass(frozen=True)
class HostPlan:
    name: str
    netns: str
    lan_ip: ipaddress.IPv4Address  # its address on its segment (the LAN or the internet)
    lan_ip6: ipaddress.IPv6Address
    segment: str = "lan"  # lan | internet


@dataclass(frozen=True)
class LabPlan:
    lab_id: str
    owner_pid: int
    directory: Path
    lan: ipaddress.IPv4Network
    lan_netns: str
    engines: tuple[EnginePlan, ...]
    hosts: tuple[HostPlan, ...]
    router_netns: str | None = None  # set when there are internet hosts

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.lan.network_address + 1

    @property
    def router_lan_ip(self) -> ipaddress.IPv4Address:
        return self.lan.network_address + ROUTER_HOST

    @property
    def router_lan_ip6(self) -> ipaddress.IPv6Address:
        return LAN6.network_address + ROUTER_HOST

    @property
    def namespaces(self) -> tuple[str, ...]:
        router = (self.router_netns,) if self.router_netns else ()
        return (self.lan_netns, *router, *(e.netns for e in self.engines), *(h.netns for h in self.hosts))

    @property
    def tls_dir(self) -> Path:
        return self.directory / "tls"

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"


def netns_prefix(lab_id: str) -> str:
    return f"{PREFIX}{lab_id}-"


def owner_of(name: str) -> int | None:
    """The owning pid in a lab name (``audlab-1234-ab12-e1`` or a directory ``1234-ab12``)."""
    match = re.match(rf"^(?:{PREFIX})?(\d+)-[0-9a-f]{{4}}(?:-|$)", name)
    return int(match.group(1)) if match else None


def make_plan(
    engines: Sequence[EngineConfig],
    outside: Sequence[str],
    lan: str,
    base_dir: Path,
    owner_pid: int,
    tag: str,
    internet: Sequence[str] = (),
) -> LabPlan:
    """Check the request and lay out every name and address; raises ``LabError``."""
    names = [e.name for e in engines] + list(outside) + list(internet)
    for name in names:
        if not _NAME.match(name) or name in ("lan", "router"):
            raise LabError(f"lab name {name!r}: use 1-10 lowercase letters/digits, not 'lan' or 'router'")
    if len(set(names)) != len(names):
        raise LabError(f"lab names must be unique: {names}")
    if not 1 <= len(engines) <= MAX_ENGINES or len(outside) > MAX_HOSTS or len(internet) > MAX_HOSTS:
        raise LabError(f"a lab has 1-{MAX_ENGINES} engines and at most {MAX_HOSTS} hosts per segment")
    if not re.fullmatch(r"[0-9a-f]{4}", tag):
        raise LabError(f"lab tag {tag!r} must be four hex digits")
    try:
        net = ipaddress.IPv4Network(lan)
    except ValueError as exc:
        raise LabError(f"the lab LAN {lan!r}: {exc}") from None
    if net.prefixlen != 24 or not net.subnet_of(LAN_SPACE) or (internet and net == INTERNET):
        raise LabError(
            f"the lab LAN must be a /24 inside {LAN_SPACE} (not {INTERNET} with internet hosts), not {lan}"
        )
    for config in engines:
        reserved = RESERVED_KEYS & set(config.daemon)
        if reserved:
            raise LabError(f"engine {config.name}: the lab sets {sorted(reserved)} itself")
    lab_id = f"{owner_pid}-{tag}"
    directory = base_dir / lab_id
    prefix = netns_prefix(lab_id)
    engine_plans = []
    for index, config in enumerate(engines, start=1):
        block = ipaddress.IPv4Network(f"198.19.{16 * index}.0/20")
        engine_plans.append(
            EnginePlan(
                index=index,
                config=config,
                netns=f"{prefix}{config.name}",
                lan_ip=net.network_address + ENGINE_HOST_BASE + index,
                lan_ip6=LAN6.network_address + ENGINE_HOST_BASE + index,
                lan_port=config.name,
                macvlan_port=f"{config.name}-mv" if config.macvlan_parent else None,
                bridge_cidr=next(block.subnets(new_prefix=24)),
                address_pool=list(block.subnets(new_prefix=21))[1],
                ipv6_cidr=ipaddress.IPv6Network(f"2001:2:0:{index:x}::/64"),
                macvlan_range=ipaddress.IPv4Network(f"{net.network_address + 128 + 16 * (index - 1)}/28"),
                cgroup_parent=f"/{prefix}{config.name}",
                directory=directory / config.name,
            )
        )
    host_plans = tuple(
        HostPlan(
            name=name,
            netns=f"{prefix}{name}",
            lan_ip=net.network_address + OUTSIDE_HOST_BASE + number,
            lan_ip6=LAN6.network_address + OUTSIDE_HOST_BASE + number,
        )
        for number, name in enumerate(outside, start=1)
    ) + tuple(
        HostPlan(
            name=name,
            netns=f"{prefix}{name}",
            lan_ip=INTERNET.network_address + OUTSIDE_HOST_BASE + number,
            lan_ip6=INTERNET6.network_address + OUTSIDE_HOST_BASE + number,
            segment="internet",
        )
        for number, name in enumerate(internet, start=1)
    )
    return LabPlan(
        lab_id=lab_id,
        owner_pid=owner_pid,
        directory=directory,
        lan=net,
        lan_netns=f"{prefix}lan",
        engines=tuple(engine_plans),
        hosts=host_plans,
        router_netns=f"{prefix}router" if internet else None,
    )


@dataclass(frozen=True)
class TlsPaths:
    ca: Path
    server_cert: Path
    server_key: Path
    client_dir: Path  # ca.pem, cert.pem, key.pem: what DOCKER_CERT_PATH expects


def daemon_json(plan: LabPlan, engine: EnginePlan, tls: TlsPaths | None) -> dict[str, Any]:
    """The engine's daemon.json: the lab's isolation keys, then the test's own settings.

    The lab keys give each engine its own addresses (never the machine's 172.17/16), its own
    cgroup parent (so leftovers can be found), its own identity key (otherwise every engine
    reads /etc/docker/key.json and reports the machine's engine ID) and a short shutdown.
    """
    config = engine.config
    hosts = [f"unix://{engine.socket}"]
    if engine.tcp_url:
        hosts.append(engine.tcp_url)
    doc: dict[str, Any] = {
        "hosts": hosts,
        "bip": f"{engine.bridge_cidr.network_address + 1}/{engine.bridge_cidr.prefixlen}",
        "default-address-pools": [{"base": str(engine.address_pool), "size": 24}],
        "cgroup-parent": engine.cgroup_parent,
        "deprecated-key-path": str(engine.directory / "key.json"),
        "shutdown-timeout": 2,
    }
    if config.tcp is not None and not config.tcp.tls:
        # Explicit intent: without it Debian's 20.10.24 sleeps 15 s at start-up on a plain TCP
        # listener. The API is exactly as unprotected either way.
        doc["tls"] = False
    if config.tcp is not None and config.tcp.tls:
        if tls is None:
            raise LabError(f"engine {engine.name} wants TLS but no certificates were made")
        doc.update(
            {
                "tls": True,
                "tlsverify": True,
                "tlscacert": str(tls.ca),
                "tlscert": str(tls.server_cert),
                "tlskey": str(tls.server_key),
            }
        )
    labels = [f"io.auditor.lab={plan.lab_id}", f"io.auditor.lab.engine={engine.name}"]
    own = dict(config.daemon)
    labels += list(own.pop("labels", []))
    doc.update(own)
    doc["labels"] = labels
    if doc.get("ipv6") and "fixed-cidr-v6" not in doc:
        doc["fixed-cidr-v6"] = str(engine.ipv6_cidr)
    return doc


def inside_lab_space(address: str) -> bool:
    """Whether an address is one the lab may use (198.18.0.0/15 or 2001:2::/48)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv4Address):
        return ip in BENCHMARK_NET
    return ip in ipaddress.ip_network("2001:2::/48")
