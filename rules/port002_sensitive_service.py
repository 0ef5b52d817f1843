"""PORT002: a sensitive service (datastore, broker, API, admin console, remote shell) is
published beyond loopback.

The service is recognised from the image (repository name, then the image's labels); the
container port alone is weak evidence (many images listen on 9200 or 8200 without being
Elasticsearch or Vault), reported at medium or low and said so. Severity is critical for
services that accept connections without authentication by default. One finding per port
entry: a published range is one finding. When the scan analysed the host's firewall
(``Snapshot.exposure``), the message says who really reaches the port and a port blocked from
every outside zone is low; an undecided answer is said as such, never as protected.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.exposure import Reach
from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, entries, entry_reach, name_of, who_reaches
from .services import Identification, identify_any

META = RuleMeta(
    id="PORT002",
    title="Sensitive service reachable beyond loopback",
    severity=Severity.HIGH,
    other_severities=(
        (
            Severity.CRITICAL,
            "for services that accept unauthenticated connections by default, identified by image or label",
        ),
        (Severity.MEDIUM, "for such services identified by the container port only"),
        (
            Severity.LOW,
            "for other services identified by the container port only, and for any service the "
            "exposure analysis finds blocked from every outside zone",
        ),
    ),
    rationale=(
        "Datastores, message brokers, orchestration APIs, admin consoles and remote shells are "
        "prime targets: scanners find them within minutes, and several (Redis, MongoDB, "
        "Elasticsearch, etcd, the Docker API) accept anyone by default. Such services belong on "
        "an internal network reachable only by the containers that use them."
    ),
    remediation=(
        "Do not publish the port; let other containers reach it over a user-defined network "
        "(compose: remove `ports:` and use `expose:` or nothing). If the host itself needs it, "
        'bind to loopback: `-p 127.0.0.1:6379:6379` / `ports: ["127.0.0.1:6379:6379"]`. '
        "Enable authentication and TLS on the service either way."
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(306, "Missing Authentication for Critical Function"),
        cwe(668, "Exposure of Resource to Wrong Sphere"),
    ),
)


def severity_of(ident: Identification) -> Severity:
    """Critical/high when the image says so; medium/low when only the port number does."""
    if ident.weak:
        return Severity.MEDIUM if ident.service.unauthenticated_by_default else Severity.LOW
    return Severity.CRITICAL if ident.service.unauthenticated_by_default else Severity.HIGH


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container, entry in entries(snapshot, lambda p: p.beyond_loopback):
        hit = identify_any(container, entry.bindings)
        if hit is None:
            continue
        port, ident = hit
        service = ident.service
        severity = severity_of(ident)
        where = "all interfaces" if port.is_all_interfaces else port.host_ip
        shown = entry.display()
        if port.is_all_interfaces:
            shown = shown.replace("[::]:", "*:").replace("0.0.0.0:", "*:")
        if ident.weak:
            how = (
                f" Identified by the container port only ({port.container_port} is {service.name}'s default); "
                f"the image {container.image or '(none)'} does not say so, so confidence is low."
            )
        else:
            how = f" Identified by its {ident.evidence}."
        auth = (
            " It accepts unauthenticated connections by default, so exposure is critical."
            if service.unauthenticated_by_default and not ident.weak
            else ""
        )
        reach = entry_reach(snapshot, container, entry.bindings)
        said, seen = who_reaches(reach) if reach is not None else ("", ())
        if reach is not None and reach.outside is Reach.BLOCKED:
            severity, auth = Severity.LOW, ""  # who can connect matters more than how it was identified
        yield Observation(
            subject=container,
            message=f"{name_of(container)} exposes {service.name} ({service.category}) on {where} as {shown}.{how}{auth}{said}",
            key=entry.key,
            evidence=(
                *entry.evidence(),
                ("service", service.name),
                ("category", service.category),
                ("identified_by", ident.by),
                ("identity_evidence", ident.evidence),
                *seen,
            ),
            severity=severity,
            origin=port.origin,
        )


RULE = Rule(META, check)
