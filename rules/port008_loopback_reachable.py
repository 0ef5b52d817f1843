"""PORT008: ports published to loopback are reachable from the local network on this engine.

Engines before 28.0.0 DNAT a ``127.0.0.1`` published port for packets from any interface, so
a neighbour on the same L2 segment can route to it (moby issues 41872 and 45610); 28.0.0 adds
a filter, which a firewalld reload removed again until 28.3.3 (CVE-2025-54388). The daemon's
``allow-direct-routing``, a network's ``nat-unprotected`` gateway mode and
``trusted_host_interfaces`` switch the protection off on purpose.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from auditor.model.records import Container, PortBinding, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs, entries, name_of, parse_version
from .services import identify

GATEWAY_MODE = "com.docker.network.bridge.gateway_mode_ipv4"
TRUSTED = "com.docker.network.bridge.trusted_host_interfaces"

META = RuleMeta(
    id="PORT008",
    title="Loopback-published ports reachable from the local network",
    severity=Severity.HIGH,
    other_severities=(
        (
            Severity.CRITICAL,
            "when the port serves a service that accepts unauthenticated connections by default",
        ),
    ),
    rationale=(
        "Publishing to 127.0.0.1 is meant to keep a port on the host. On engines before "
        "28.0.0 the DNAT rule accepts packets for 127.0.0.1 from any interface, so a machine on "
        "the same network segment that routes 127.0.0.1 via this host reaches the service "
        "(moby issues 41872, 45610). 28.0.0 drops such packets; before 28.3.3 a firewalld "
        "reload removed that filter (CVE-2025-54388). allow-direct-routing, the "
        "nat-unprotected gateway mode and trusted_host_interfaces disable it deliberately."
    ),
    remediation=(
        "Upgrade the engine to 28.3.3 or later. Until then, drop such traffic in DOCKER-USER, "
        "matching the address before Docker's DNAT rewrote it: `iptables -I DOCKER-USER -m "
        "conntrack --ctorigdst 127.0.0.0/8 ! -i lo -j DROP`, or do not publish at all and "
        "reach the service over a user-defined network (compose: remove `ports:`). Remove "
        '`"allow-direct-routing": true` from daemon.json and the network options '
        "`com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected` / "
        "`com.docker.network.bridge.trusted_host_interfaces` "
        "(`docker network create -o ...`, compose `driver_opts:`)."
    ),
    references=(
        cwe(1327, "Binding to an Unrestricted IP Address"),
        docs(
            "moby/moby#45610: published ports on 127.0.0.1 reachable from the LAN",
            "https://github.com/moby/moby/issues/45610",
        ),
        docs(
            "CVE-2025-54388 (GHSA-x4rx-4gw3-53p4)",
            "https://github.com/moby/moby/security/advisories/GHSA-x4rx-4gw3-53p4",
        ),
    ),
    needs=("server_version", "firewalld_active", "allow_direct_routing"),
)


def _is_ipv4_loopback(port: PortBinding) -> bool:
    if not port.host_ip.startswith("127."):  # the only spelling of 127.0.0.0/8 that ip_address reads
        return port.host_ip == "localhost"
    try:
        ip = ipaddress.ip_address(port.host_ip)
    except ValueError:
        return port.host_ip == "localhost"
    return ip.version == 4 and ip.is_loopback


def engine_reasons(snapshot: Snapshot) -> list[str]:
    """Why every loopback-published port on this daemon is exposed, if it is."""
    facts = snapshot.daemon
    version = parse_version(facts.server_version)
    reasons = []
    if version is not None and version < (28, 0, 0):
        reasons.append(f"engine {facts.server_version} is older than 28.0.0 (moby#45610)")
    elif version is not None and version < (28, 3, 3) and facts.firewalld_active:
        reasons.append(
            f"firewalld is active and engine {facts.server_version} is older than 28.3.3 (CVE-2025-54388)"
        )
    if facts.allow_direct_routing:
        reasons.append("the daemon sets allow-direct-routing")
    return reasons


def network_reasons(snapshot: Snapshot, container: Container) -> list[str]:
    reasons = []
    for name in container.network_names:
        net = snapshot.network(name)
        if net is None:
            continue
        if net.option(GATEWAY_MODE) == "nat-unprotected":
            reasons.append(f"network {net.name} uses gateway mode nat-unprotected")
        if net.option(TRUSTED):
            reasons.append(f"network {net.name} trusts host interfaces {net.option(TRUSTED)}")
    return reasons


def check(snapshot: Snapshot) -> Iterator[Observation]:
    daemon_reasons = engine_reasons(snapshot)
    for container, entry in entries(snapshot, _is_ipv4_loopback):
        reasons = daemon_reasons + network_reasons(snapshot, container)
        if not reasons:
            continue
        idents = [i for p in entry.bindings if (i := identify(container, p)) is not None and not i.weak]
        service = idents[0].service if idents else None
        worse = service is not None and service.unauthenticated_by_default
        suffix = (
            f" It serves {service.name}, which accepts unauthenticated connections by default, so this is critical."
            if worse and service
            else ""
        )
        yield Observation(
            subject=container,
            message=(
                f"{name_of(container)} publishes {entry.display()} to loopback, but it is reachable "
                f"from the local network: {'; '.join(reasons)}.{suffix}"
            ),
            key=entry.key,
            evidence=(*entry.evidence(), ("reasons", "; ".join(reasons))),
            severity=Severity.CRITICAL if worse else None,
            origin=entry.first.origin,
        )


RULE = Rule(META, check)
