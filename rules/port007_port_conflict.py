"""PORT007: two containers or services claim the same host address, port and protocol.

``0.0.0.0`` overlaps every IPv4 address, ``::`` every IPv6 address, an empty host IP every
address of both families; port ranges overlap when they intersect; ephemeral ports never
clash. The engine refuses to start the second one, so this is an outage waiting to happen.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from auditor.model.records import Container, PortBinding, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import docs, name_of, port_evidence, port_key

META = RuleMeta(
    id="PORT007",
    title="Host port claimed by more than one container",
    severity=Severity.LOW,
    rationale=(
        "Only one listener can own a host address, port and protocol. When two containers or "
        "services claim the same one, whichever starts second fails with \"port is already "
        "allocated\" - typically after a reboot or redeploy, when the start order changes."
    ),
    remediation=(
        "Give each container its own host port or address, e.g. `docker run -p 127.0.0.1:8081:80 ...` "
        "for the second one, or in compose `ports: [\"8081:80\"]`; or put both behind one reverse "
        "proxy that owns the port."
    ),
    references=(docs("Docker docs: Published ports", "https://docs.docker.com/engine/network/#published-ports"),),
)


def _family(ip: str) -> int | None:
    """4, 6, or ``None`` for the empty host IP (both families)."""
    if not ip:
        return None
    if ip == "localhost":
        return 4
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return 4 if "." in ip else 6


def addresses_overlap(a: str, b: str) -> bool:
    """Whether two host IPs can collide: wildcards cover their family, empty covers all."""
    if not a or not b:
        return True
    fa, fb = _family(a), _family(b)
    if fa != fb:
        return False
    if a in ("0.0.0.0", "::") or b in ("0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def bindings_clash(a: PortBinding, b: PortBinding) -> bool:
    if a.host_port is None or b.host_port is None or a.protocol != b.protocol:
        return False
    a_end = a.host_port + a.host_port_count - 1
    b_end = b.host_port + b.host_port_count - 1
    if a.host_port > b_end or b.host_port > a_end:
        return False
    return addresses_overlap(a.host_ip, b.host_ip)


def _claims(snapshot: Snapshot) -> list[tuple[Container, PortBinding]]:
    return [(c, p) for c in snapshot.containers for p in c.published_ports if p.host_port is not None]


def check(snapshot: Snapshot) -> Iterator[Observation]:
    claims = _claims(snapshot)
    reported: set[tuple[str, str]] = set()
    for container, port in claims:
        others = sorted(
            {
                f"{name_of(other)} ({theirs.display()})"
                for other, theirs in claims
                if other is not container and other.name != container.name and bindings_clash(port, theirs)
            }
        )
        key = f"{port_key(port)}:{port.host_port}"
        if not others or (container.name, key) in reported:
            continue
        reported.add((container.name, key))
        yield Observation(
            subject=container,
            message=(
                f"{name_of(container)} claims host port {port.display()}, which "
                f"{' and '.join(others)} also claim{'s' if len(others) == 1 else ''}."
            ),
            key=key,
            evidence=(*port_evidence(port), ("also_claimed_by", "; ".join(others))),
            origin=port.origin,
        )


RULE = Rule(META, check)
