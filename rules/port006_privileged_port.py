"""PORT006: a privileged host port (below 1024) is published beyond loopback (CIS 5.8).

What counts is the host port, not the port inside the container: ``-p 8080:80`` is fine.
An entry published on all interfaces is PORT001's, whose message names the privileged port
(one finding per port entry); this rule covers entries bound to a specific address.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, entries, name_of, reaches_beyond_loopback, reported_as_all_interfaces, where

META = RuleMeta(
    id="PORT006",
    title="Privileged host port published beyond loopback",
    severity=Severity.INFO,
    rationale=(
        "Host ports below 1024 are reserved for system services; publishing one from a "
        "container makes it look like (and collide with) a host service such as SSH, SMTP or "
        "DNS, and usually means the container is internet-facing. Review that this is intended."
    ),
    remediation=(
        "Publish on an unprivileged host port and let a reverse proxy or load balancer own "
        "the low port: `docker run -p 8080:80 ...` instead of `-p 80:80`; in compose "
        '`ports: ["8080:80"]`.'
    ),
    references=(cis("5.8", "Ensure that privileged ports are not mapped within containers"),),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    def wanted(port) -> bool:
        return (
            port.requested_host_port is not None
            and port.host_port < 1024
            and reaches_beyond_loopback(port, snapshot)
        )

    for container, entry in entries(snapshot, wanted):
        if reported_as_all_interfaces(entry, snapshot):
            continue
        port = entry.first
        if entry.is_range:
            host = f"host ports {port.host_port}-{entry.bindings[-1].host_port}/{port.protocol}"
            inside = f"container ports {port.container_port}-{entry.bindings[-1].container_port}"
        else:
            host = f"host port {port.host_port}/{port.protocol}"
            inside = f"container port {port.container_port}"
        yield Observation(
            subject=container,
            message=f"{name_of(container)} publishes privileged {host} ({inside}) on {where(port)}.",
            key=f"{entry.key}:{port.host_port}",
            evidence=entry.evidence(),
            origin=port.origin,
        )


RULE = Rule(META, check)
