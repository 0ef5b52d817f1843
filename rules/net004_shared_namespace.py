"""NET004: a container joins another container's network namespace (``--network container:X``).

Both share interfaces, addresses, ports and loopback: each can reach whatever the other binds
to 127.0.0.1, and a port rule on one applies to both.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of

META = RuleMeta(
    id="NET004",
    title="Container shares another container's network namespace",
    severity=Severity.LOW,
    rationale=(
        "A container started with `--network container:other` (compose `network_mode: "
        "service:other`) has no network of its own: it sees the other's interfaces, can bind "
        "its ports, and reaches services the other binds to loopback. This is right for "
        "sidecars that are meant to, and a silent widening of access for everything else."
    ),
    remediation=(
        "Attach the container to a network of its own and talk to the other over it: "
        "`docker run --network app ...` instead of `--network container:other`; in compose "
        "use `networks: [app]` instead of `network_mode: service:other`. Keep namespace "
        "sharing for sidecars that must share it (VPN clients, service-mesh proxies)."
    ),
    references=(
        cis("5.9", "Ensure that the host's network namespace is not shared"),
        cwe(653, "Improper Isolation or Compartmentalization"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    by_id = {c.id: c for c in snapshot.containers if c.id}
    for container in snapshot.containers:
        joined = container.joined_namespace
        if joined is None:
            continue
        other = by_id.get(joined)
        shown = name_of(other) if other is not None else joined
        yield Observation(
            subject=container,
            message=f"{name_of(container)} shares the network namespace of {shown}.",
            key="namespace",
            evidence=(("network_mode", container.network_mode.split(":", 1)[0] + ":" + shown),),
            origin=container.network_mode_origin or container.origin,
        )


RULE = Rule(META, check)
