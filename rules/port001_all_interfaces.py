"""PORT001: a port is published on all interfaces (0.0.0.0, ``::`` or an empty host IP).

Docker publishes on every host address unless told otherwise, and its NAT rules are applied
before the host firewall's INPUT chain, so such a port is usually reachable from any network
the host is on, whatever UFW or firewalld say. One finding per port entry: an entry that
PORT002 (a sensitive service) or PORT005 (a UDP amplifier) reports is theirs, and a privileged
host port is said here instead of in a second finding (PORT006). When the scan analysed the
host's firewall (``Snapshot.exposure``), the message says who really reaches the port, and a
port the firewall blocks from every outside zone is low.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.exposure import Reach
from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, docs, entries, entry_reach, name_of, reported_as_all_interfaces, who_reaches
from .services import specifically_reported

META = RuleMeta(
    id="PORT001",
    title="Port published on all interfaces",
    severity=Severity.MEDIUM,
    other_severities=(
        (
            Severity.LOW,
            "when the exposure analysis finds the host's firewall blocks it from every outside zone",
        ),
    ),
    rationale=(
        "A port published without a host address listens on every interface of the host, "
        "IPv4 and IPv6. Docker's DNAT rules run before the host firewall, so UFW/firewalld "
        "rules do not protect it: anything that can route to the host can connect."
    ),
    remediation=(
        "Bind the port to the address that needs it, usually loopback behind a reverse proxy: "
        '`docker run -p 127.0.0.1:8080:80 ...` or in compose `ports: ["127.0.0.1:8080:80"]`. '
        "If it must be public, filter it in the DOCKER-USER iptables chain."
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(1327, "Binding to an Unrestricted IP Address"),
        docs(
            "Docker docs: Packet filtering and firewalls",
            "https://docs.docker.com/engine/network/packet-filtering-firewalls/",
        ),
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
    for container, entry in entries(snapshot, lambda p: p.is_all_interfaces):
        port, addresses = entry.first, entry.addresses
        if not reported_as_all_interfaces(entry, snapshot):
            continue  # the daemon's `ip` option narrows empty host IPs to one address
        if specifically_reported(container, entry.bindings):
            continue
        if port.host_port is None:  # an engine-chosen port is shown once the container runs
            host_port = "ephemeral ports" if entry.is_range else "an ephemeral port"
        elif entry.is_range:
            host_port = f"host ports {entry.bindings[0].host_port}-{entry.bindings[-1].host_port}"
        else:
            host_port = f"host port {port.host_port}"
        privileged = port.host_port is not None and port.host_port < 1024
        if privileged:
            host_port += " (privileged, below 1024)"
        what = f"{port.container_port}/{port.protocol}"
        if entry.is_range:
            what = f"{port.container_port}-{entry.bindings[-1].container_port}/{port.protocol} ({len(entry.bindings)} ports)"
        reach = entry_reach(snapshot, container, entry.bindings)
        said, seen = who_reaches(reach) if reach is not None else ("", ())
        yield Observation(
            subject=container,
            message=f"{name_of(container)} publishes {what} on {host_port} of {_describe(addresses, snapshot)}.{said}",
            key=entry.key,
            evidence=(
                *entry.evidence(),
                ("addresses", ", ".join(addresses)),
                *((("privileged_host_port", "true"),) if privileged else ()),
                *seen,
            ),
            severity=Severity.LOW if reach is not None and reach.outside is Reach.BLOCKED else None,
            origin=port.origin,
        )


RULE = Rule(META, check)
