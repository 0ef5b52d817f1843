"""PORT006: a privileged host port (below 1024) is published beyond loopback (CIS 5.8).

What counts is the host port, not the port inside the container: ``-p 8080:80`` is fine.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, first_per_key, name_of, port_evidence, port_key, reaches_beyond_loopback, where

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
        "`ports: [\"8080:80\"]`."
    ),
    references=(cis("5.8", "Ensure that privileged ports are not mapped within containers"),),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    def wanted(port) -> bool:
        return port.host_port is not None and port.host_port < 1024 and reaches_beyond_loopback(port, snapshot)

    for container, port in first_per_key(snapshot, wanted):
        yield Observation(
            subject=container,
            message=(
                f"{name_of(container)} publishes privileged host port {port.host_port}/{port.protocol} "
                f"(container port {port.container_port}) on {where(port)}."
            ),
            key=f"{port_key(port)}:{port.host_port}",
            evidence=port_evidence(port),
            origin=port.origin,
        )


RULE = Rule(META, check)
