"""PORT002: a sensitive service (datastore, broker, API, admin console, remote shell) is
published beyond loopback.

Recognised by the container port (the port inside the container, which is what the service
listens on) and by the image name; severity is critical for services that accept connections
without authentication by default.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, port_evidence, port_key, published_ports
from .services import identify

META = RuleMeta(
    id="PORT002",
    title="Sensitive service reachable beyond loopback",
    severity=Severity.HIGH,
    rationale=(
        "Datastores, message brokers, orchestration APIs, admin consoles and remote shells are "
        "prime targets: scanners find them within minutes, and several (Redis, MongoDB, "
        "Elasticsearch, etcd, the Docker API) accept anyone by default. Such services belong on "
        "an internal network reachable only by the containers that use them."
    ),
    remediation=(
        "Do not publish the port; let other containers reach it over a user-defined network "
        "(compose: remove `ports:` and use `expose:` or nothing). If the host itself needs it, "
        "bind to loopback: `-p 127.0.0.1:6379:6379` / `ports: [\"127.0.0.1:6379:6379\"]`. "
        "Enable authentication and TLS on the service either way."
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(306, "Missing Authentication for Critical Function"),
        cwe(668, "Exposure of Resource to Wrong Sphere"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    seen: set[tuple[str, str]] = set()
    for container, port in published_ports(snapshot):
        if not port.beyond_loopback or (container.name, port_key(port)) in seen:
            continue
        seen.add((container.name, port_key(port)))
        service = identify(container, port)
        if service is None:
            continue
        severity = Severity.CRITICAL if service.unauthenticated_by_default else Severity.HIGH
        where = "all interfaces" if port.is_all_interfaces else port.host_ip
        shown = port.display().replace("[::]:", "*:").replace("0.0.0.0:", "*:") if port.is_all_interfaces else port.display()
        auth = (
            " It accepts unauthenticated connections by default, so exposure is critical."
            if service.unauthenticated_by_default
            else ""
        )
        yield Observation(
            subject=container,
            message=(
                f"{container.name} exposes {service.name} ({service.category}) on {where} "
                f"as {shown}.{auth}"
            ),
            key=port_key(port),
            evidence=(*port_evidence(port), ("service", service.name), ("category", service.category)),
            severity=severity,
            origin=port.origin,
        )


RULE = Rule(META, check)
