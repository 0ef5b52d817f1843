"""Every network mode the benchmark measures, each one record that owns all it needs.

A ``Mode`` holds its name and description, the rule that says when it cannot run here, the
function that sets up its route (called by the environment), the close relatives it is compared
with, the rules whose findings quote that comparison, and how its measured path is named. The
plan, the environment, the result and ``scan --bench`` read these records and nothing else, so
adding a mode means adding one ``Mode`` to ``MODES`` below (and its test).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.model.bench import CpuUse

from . import procfs
from .environment import (
    CONN_PORT,
    IPERF_PORT,
    SOCKPERF_PORT,
    BenchEnvironment,
    BenchError,
    Route,
    Servers,
    Setup,
    host_port,
    netns_of,
    wait_listening,
)
from .settings import Capabilities, Options

SkipRule = Callable[[Options, Capabilities], str | None]
PathRule = Callable[[CpuUse, bool | None], str | None]

PROXY_CPU_THRESHOLD = 5.0  # % of a core: above this, the userland proxy carried the traffic


@dataclass(frozen=True)
class Citation:
    """A rule whose findings quote a comparison's measured cost (``auditor scan --bench``)."""

    rule_id: str
    meaning: str  # what the ratio means, in the finding's words


@dataclass(frozen=True)
class Relative:
    """A close relative a mode is compared with, paired by repetition (besides the baselines)."""

    reference: str
    listed: int  # place among a result's comparisons, the most asked-about first
    cited_by: tuple[Citation, ...] = ()


def runs_anywhere(_opts: Options, _caps: Capabilities) -> str | None:
    return None


def no_path(_cpu: CpuUse, _userland_proxy: bool | None) -> str | None:
    return None


@dataclass(frozen=True)
class Mode:
    """One way traffic can travel between two Docker endpoints, and everything about measuring it.

    ``setup`` builds the route (client namespace, address, ports) in a ``BenchEnvironment``;
    ``requires`` says why the mode cannot run on this host with these options (None: it can);
    ``containers`` modes also need the local engine, root and nsenter. A ``baseline`` is measured
    in every run, and every other mode gets a ratio to it. ``path`` names the way traffic went
    from the CPU it cost; the mode that ``reveals_proxy`` tells which path the userland proxy took.
    """

    name: str
    description: str
    setup: Setup
    requires: SkipRule = runs_anywhere
    containers: bool = True
    baseline: bool = False
    relatives: tuple[Relative, ...] = ()
    path: PathRule = no_path
    reveals_proxy: bool = False

    def skip_reason(self, opts: Options, caps: Capabilities) -> str | None:
        """Why this mode cannot run on this host, or None."""
        if caps.tools_missing:
            return f"missing on this host: {', '.join(caps.tools_missing)}"
        if self.containers:
            if not caps.engine_local:
                return "the engine is not on this machine (bench needs the local engine's network namespaces)"
            if not caps.root or not caps.nsenter:
                return "needs root and nsenter to run the client in a container's network namespace"
        return self.requires(opts, caps)


# -- set-up of each route ----------------------------------------------------------------------
def _host_loopback(bench: BenchEnvironment) -> Route:
    ports = [procfs.free_port() for _ in range(3)]
    iperf = bench.spawn(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(ports[0])])
    sockperf = bench.spawn(["sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", str(ports[1])])
    conn = bench.connrate_server(None, ports[2], "127.0.0.1")
    wait_listening(os.getpid(), ports, "host-loopback servers")
    servers = Servers(iperf.pid, sockperf.pid, conn)
    return Route("host-loopback", None, "127.0.0.1", ports[0], ports[1], ports[2], servers)


def _none_loopback(bench: BenchEnvironment) -> Route:
    server = bench.server_container("none", network_mode="none")
    netns, servers = bench.namespace_servers(server)
    return Route("none-loopback", netns, "127.0.0.1", IPERF_PORT, SOCKPERF_PORT, CONN_PORT, servers)


def _host_network(bench: BenchEnvironment) -> Route:
    ports = [procfs.free_port() for _ in range(3)]
    server = bench.server_container(
        "host", listen=(ports[0], ports[1]), bind="127.0.0.1", network_mode="host"
    )
    conn = bench.connrate_server(None, ports[2], "127.0.0.1")
    servers = bench.servers_of(server, conn)
    wait_listening(os.getpid(), ports, "host-network servers")
    return Route("host", None, "127.0.0.1", ports[0], ports[1], ports[2], servers)


@dataclass(frozen=True)
class BridgeServer:
    """The server container on the default bridge that five modes share."""

    container: Any
    servers: Servers
    address: str


def bridge_server(bench: BenchEnvironment) -> BridgeServer:
    """One server on docker0, its ports published on 127.0.0.1 and the gateway; made once per run."""

    def make() -> BridgeServer:
        host_ips = ["127.0.0.1", *([bench.gateway_ip] if bench.gateway_ip else [])]
        # iperf3 sends UDP data to its control port number, so tcp and udp share one host port
        iperf_host_port = procfs.free_port()
        iperf_bindings = [(ip, iperf_host_port) for ip in host_ips]
        any_port = [(ip,) for ip in host_ips]
        published = {
            f"{IPERF_PORT}/tcp": iperf_bindings,
            f"{IPERF_PORT}/udp": iperf_bindings,
            f"{SOCKPERF_PORT}/tcp": any_port,
            f"{CONN_PORT}/tcp": any_port,
        }
        server = bench.server_container("bridge-server", network_mode="bridge", ports=published)
        _, servers = bench.namespace_servers(server)
        address = str(server.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"])
        return BridgeServer(server, servers, address)

    return bench.shared("default-bridge-server", make)


def _bridge(bench: BenchEnvironment) -> Route:
    shared = bridge_server(bench)
    client = bench.container("bridge-client", ["sleep", "86400"], network_mode="bridge")
    return Route(
        "bridge", netns_of(client), shared.address, IPERF_PORT, SOCKPERF_PORT, CONN_PORT, shared.servers
    )


def _host_to_container(bench: BenchEnvironment) -> Route:
    shared = bridge_server(bench)
    return Route(
        "host-to-container", None, shared.address, IPERF_PORT, SOCKPERF_PORT, CONN_PORT, shared.servers
    )


def _container_ns(bench: BenchEnvironment) -> Route:
    shared = bridge_server(bench)
    client = bench.container("ns-client", ["sleep", "86400"], network_mode=f"container:{shared.container.id}")
    return Route(
        "container-ns", netns_of(client), "127.0.0.1", IPERF_PORT, SOCKPERF_PORT, CONN_PORT, shared.servers
    )


def _published(mode: str, host_ip: str | None, bench: BenchEnvironment) -> Route:
    """The bridge server reached through the ports the engine published on ``host_ip``."""
    shared = bridge_server(bench)
    if not host_ip:
        raise BenchError("no host address to reach the published ports on")
    ports = shared.container.attrs["NetworkSettings"]["Ports"] or {}
    found = {
        tool: host_port(ports, f"{port}/tcp", host_ip)
        for tool, port in (("iperf3", IPERF_PORT), ("sockperf", SOCKPERF_PORT), ("connrate", CONN_PORT))
    }
    iperf, sockperf, conn = found["iperf3"], found["sockperf"], found["connrate"]
    if iperf is None or sockperf is None or conn is None:
        raise BenchError(f"the engine did not publish the ports on {host_ip}")
    published = {"iperf3": (host_ip, iperf), "sockperf": (host_ip, sockperf), "connrate": (host_ip, conn)}
    return Route(mode, None, host_ip, iperf, sockperf, conn, shared.servers, published=published)


def _published_nat(bench: BenchEnvironment) -> Route:
    return _published("published-nat", bench.gateway_ip, bench)


def _published_proxy(bench: BenchEnvironment) -> Route:
    return _published("published-proxy", "127.0.0.1", bench)


def _user_bridge(bench: BenchEnvironment) -> Route:
    return bench.pair_on_network("user-bridge", "bridge", {})


def _macvlan(bench: BenchEnvironment) -> Route:
    return bench.pair_on_network("macvlan", "macvlan", {"parent": bench.options.macvlan_parent})


def _overlay(bench: BenchEnvironment) -> Route:
    return bench.pair_on_network("overlay", "overlay", {}, attachable=True)


# -- when a mode cannot run, and what its path was ---------------------------------------------
def _needs_gateway(_opts: Options, caps: Capabilities) -> str | None:
    return None if caps.gateway_ip else "the default bridge has no IPv4 gateway address to publish on"


def _needs_macvlan_parent(opts: Options, _caps: Capabilities) -> str | None:
    if opts.macvlan_parent:
        return None
    return (
        "not run without --macvlan-parent IFACE: a macvlan network puts container MAC "
        "addresses on that interface's segment"
    )


def _needs_swarm_manager(opts: Options, caps: Capabilities) -> str | None:
    if not opts.overlay:
        return "not run without --overlay: it creates a swarm-scoped network"
    if not caps.swarm_active:
        return "the engine is not part of a swarm (auditor never initialises one)"
    if not caps.swarm_manager:
        return "this engine is a swarm worker; overlay networks are created on a manager"
    return None


def _published_path(cpu: CpuUse, _userland_proxy: bool | None) -> str | None:
    if cpu.proxy is not None and cpu.proxy >= PROXY_CPU_THRESHOLD:
        return "userland proxy (docker-proxy)"
    return "kernel DNAT"


def _proxy_path(cpu: CpuUse, userland_proxy: bool | None) -> str | None:
    if cpu.proxy is None and userland_proxy is False:
        return "kernel DNAT (userland proxy disabled)"
    return _published_path(cpu, userland_proxy)


# -- the modes, in the order every report lists them -------------------------------------------
MODES: tuple[Mode, ...] = (
    Mode(
        "host-loopback",
        "host process to host process over 127.0.0.1, no container (baseline)",
        _host_loopback,
        containers=False,
        baseline=True,
    ),
    Mode(
        "none-loopback",
        "inside one --network none container, over its own loopback (baseline)",
        _none_loopback,
        baseline=True,
    ),
    Mode("host", "host client to a server in a --network host container, over 127.0.0.1", _host_network),
    Mode(
        "bridge",
        "container to container on the default bridge (docker0)",
        _bridge,
        relatives=(
            Relative(
                "host", 3, (Citation("NET003", "what leaving host networking for the default bridge costs"),)
            ),
            Relative("user-bridge", 4, (Citation("NET001", "the default bridge vs a user-defined bridge"),)),
        ),
    ),
    Mode("user-bridge", "container to container on a user-defined bridge network", _user_bridge),
    Mode(
        "host-to-container",
        "host client to a container's address on the default bridge",
        _host_to_container,
        relatives=(Relative("host", 5),),
    ),
    Mode(
        "published-nat",
        "host client to a published port via a non-loopback host address (kernel DNAT)",
        _published_nat,
        requires=_needs_gateway,
        relatives=(
            Relative(
                "host-to-container",
                2,
                (Citation("PORT001", "a published port vs the container's own address"),),
            ),
        ),
        path=_published_path,
    ),
    Mode(
        "published-proxy",
        "host client to a published port via 127.0.0.1 (userland proxy where enabled)",
        _published_proxy,
        relatives=(
            Relative("published-nat", 1, (Citation("HOST004", "the userland proxy vs kernel DNAT"),)),
        ),
        path=_proxy_path,
        reveals_proxy=True,
    ),
    Mode(
        "container-ns",
        "two containers sharing one network namespace (--network container:X), loopback",
        _container_ns,
        relatives=(Relative("none-loopback", 6),),
    ),
    Mode(
        "macvlan",
        "container to container on a macvlan network (needs --macvlan-parent)",
        _macvlan,
        requires=_needs_macvlan_parent,
    ),
    Mode(
        "overlay",
        "container to container on an attachable overlay network (needs --overlay and a swarm)",
        _overlay,
        requires=_needs_swarm_manager,
    ),
)


def names(registry: Sequence[Mode] = MODES) -> tuple[str, ...]:
    return tuple(m.name for m in registry)


def baselines(registry: Sequence[Mode] = MODES) -> tuple[str, ...]:
    return tuple(m.name for m in registry if m.baseline)


def cited(rule_id: str, registry: Sequence[Mode] = MODES) -> tuple[str, str, str] | None:
    """(mode, reference, meaning) of the comparison findings of ``rule_id`` quote, or None."""
    for mode in registry:
        for relative in mode.relatives:
            for citation in relative.cited_by:
                if citation.rule_id == rule_id:
                    return mode.name, relative.reference, citation.meaning
    return None
