"""NET002: unrelated workloads share a user-defined network (the "shared bridge" risk).

Containers of different compose projects or stacks on one network, or a project's network
joined by a container from outside the project, can reach each other on every port.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import (
    cis,
    cwe,
    format_groups,
    members_can_talk,
    name_of,
    unrelated_groups,
    user_networks,
    workload_of,
)
from .services import backend_service

META = RuleMeta(
    id="NET002",
    title="Unrelated workloads share a network",
    severity=Severity.MEDIUM,
    other_severities=((Severity.HIGH, "when backend services are reachable from another workload"),),
    rationale=(
        "A user-defined network is a flat segment: every member reaches every other member "
        "on every port, and resolves it by name. When projects that do not belong together "
        "share one (a common `proxy` or `shared` network, an external network joined by hand), "
        "a compromise of one spreads to the other's databases and admin ports."
    ),
    remediation=(
        "Give each project its own network and connect only the container that really bridges "
        "them (usually a reverse proxy) to a small dedicated network: `docker network create "
        "shop_front && docker network connect shop_front proxy`; in compose declare per-project "
        "`networks:` and attach only the proxy service to the shared one "
        "(`networks: {front: {external: true}}` on that service alone)."
    ),
    references=(
        cis("5.29", "Ensure that Docker's default bridge docker0 is not used"),
        cwe(653, "Improper Isolation or Compartmentalization"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for net in user_networks(snapshot):
        if not members_can_talk(net):
            continue
        groups = unrelated_groups(net, snapshot.members(net.name))
        if groups is None:
            continue
        owner = f" (created by project {net.project})" if net.project else ""
        exposed = _exposed_backends(snapshot.members(net.name)) if len(groups) >= 2 else []
        escalation = (
            f" Backend services {', '.join(exposed)} are reachable from the other workloads, so this is high."
            if exposed
            else ""
        )
        yield Observation(
            subject=net,
            message=f"network {net.name}{owner} is shared by {format_groups(groups)}.{escalation}",
            key="shared",
            evidence=tuple((group, ", ".join(names)) for group, names in groups.items()),
            severity=Severity.HIGH if exposed else None,
        )


def _exposed_backends(members) -> list[str]:
    """Datastores/queues on the network whose project differs from some other member's.

    A member's workload differs from another's exactly when the network holds two or more
    workloads, so one set of workloads answers it for every member (no pairwise comparison).
    """
    if len({workload_of(m) for m in members}) < 2:
        return []
    out = []
    for member in members:
        service = backend_service(member)
        if service is not None:
            out.append(f"{name_of(member)} ({service.name})")
    return sorted(out)


RULE = Rule(META, check)
