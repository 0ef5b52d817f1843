"""PORT001: a port is published on all interfaces (0.0.0.0, ``::`` or an empty host IP).

Docker publishes on every host address unless told otherwise, and its NAT rules are applied
before the host firewall's INPUT chain, so such a port is usually reachable from any network
the host is on, whatever UFW or firewalld say.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, docs, effective_bind_ip, port_evidence, port_key, wildcard_groups

META = RuleMeta(
    id="PORT001",
    title="Port published on all interfaces",
    severity=Severity.MEDIUM,
    rationale=(
        "A port published without a host address listens on every interface of the host, "
        "IPv4 and IPv6. Docker's DNAT rules run before the host firewall, so UFW/firewalld "
        "rules do not protect it: anything that can route to the host can connect."
    ),
    remediation=(
        "Bind the port to the address that needs it, usually loopback behind a reverse proxy: "
        "`docker run -p 127.0.0.1:8080:80 ...` or in compose `ports: [\"127.0.0.1:8080:80\"]`. "
        "If it must be public, filter it in the DOCKER-USER iptables chain."
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(1327, "Binding to an Unrestricted IP Address"),
        docs("Docker docs: Packet filtering and firewalls", "https://docs.docker.com/engine/network/packet-filtering-firewalls/"),
    ),
)


def _describe(addresses: tuple[str, ...], snapshot: Snapshot) -> str:
    families = []
    if "0.0.0.0" in addresses:
        families.append("all IPv4 interfaces (0.0.0.0)")
    if "::" in addresses:
        families.append("all IPv6 interfaces (::)")
    if "*" in addresses:
        families.append("all interfaces (no host IP given)")
    return " and ".join(families)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        for port, addresses in wildcard_groups(container):
            bind = effective_bind_ip(port, snapshot)
            if addresses == ("*",) and bind and bind not in ("0.0.0.0", "::"):
                continue  # the daemon's `ip` option narrows empty host IPs to one address
            host_port = "an ephemeral port" if port.host_port is None else f"host port {port.host_port}"
            yield Observation(
                subject=container,
                message=(
                    f"{container.name} publishes {port.container_port}/{port.protocol} on "
                    f"{host_port} of {_describe(addresses, snapshot)}."
                ),
                key=port_key(port),
                evidence=(*port_evidence(port), ("addresses", ", ".join(addresses))),
                origin=port.origin,
            )


RULE = Rule(META, check)
