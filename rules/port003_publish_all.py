"""PORT003: every port the image exposes is published (``-P`` / ``PublishAllPorts``).

What gets published then depends on the image's ``EXPOSE`` lines, not on a reviewed list, and
each port lands on a random high host port on all interfaces.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of

META = RuleMeta(
    id="PORT003",
    title="All exposed ports are published (-P)",
    severity=Severity.MEDIUM,
    rationale=(
        "With `-P` (`PublishAllPorts`) Docker publishes every port the image declares with "
        "`EXPOSE`, on all interfaces, on random host ports. An image update can add a debug or "
        "admin port that nobody reviewed, and the random host ports make firewall rules useless."
    ),
    remediation=(
        "Replace `-P` with explicit mappings bound to the address that needs them: "
        "`docker run -p 127.0.0.1:8080:80 ...`; in compose list each port under `ports:` "
        '(`ports: ["127.0.0.1:8080:80"]`) instead of `publish_all: true`.'
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(1327, "Binding to an Unrestricted IP Address"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        if container.publish_all_ports is not True:
            continue
        exposed = sorted({(p.container_port, p.protocol) for p in container.ports})
        listed = ", ".join(f"{port}/{proto}" for port, proto in exposed) or "none at present"
        yield Observation(
            subject=container,
            message=f"{name_of(container)} publishes every exposed port (-P): {listed}.",
            key="publish-all",
            evidence=(("publish_all_ports", "true"), ("exposed_ports", listed)),
        )


RULE = Rule(META, check)
