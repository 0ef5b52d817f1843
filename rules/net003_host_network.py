"""NET003: a container runs in the host's network namespace (``--network host``).

It sees and can bind every host interface, bypasses Docker's port publishing (and so every
port rule), and can reach services the host binds to loopback.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of

META = RuleMeta(
    id="NET003",
    title="Container uses the host network namespace",
    severity=Severity.HIGH,
    rationale=(
        "With host networking the container shares the host's interfaces: any port it listens "
        "on is open on every host address without a `-p` mapping to review, it can reach "
        "services bound to the host's loopback, and network isolation is gone."
    ),
    remediation=(
        "Remove `--network host` (compose: `network_mode: host`) and publish only the ports "
        "needed, bound to a specific address: `-p 127.0.0.1:8080:8080`. If host networking is "
        "needed for performance, document it and restrict the listening address in the app."
    ),
    references=(
        cis("5.9", "Ensure that the host's network namespace is not shared"),
        cwe(653, "Improper Isolation or Compartmentalization"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        if not container.uses_host_network:
            continue
        yield Observation(
            subject=container,
            message=f"{name_of(container)} runs with network mode host: every port it opens is open on the host.",
            key="host",
            evidence=(("network_mode", "host"),),
            origin=container.network_mode_origin or container.origin,
        )


RULE = Rule(META, check)
