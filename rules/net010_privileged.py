"""NET010: a container runs privileged, with full control of its network stack (and of the
host's when it also uses host networking).

Points at the ``privileged:`` line of a compose service; live containers are read from
``HostConfig.Privileged``.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Container, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, members_can_talk, name_of

META = RuleMeta(
    id="NET010",
    title="Privileged container controls the network stack",
    severity=Severity.HIGH,
    other_severities=((Severity.CRITICAL, "with host networking (network_mode: host)"),),
    rationale=(
        "A privileged container has every capability and every device: it can reconfigure "
        "interfaces, routes and firewall rules, sniff and spoof traffic, and load kernel modules "
        "(including netfilter ones) into the host kernel. With host networking those changes "
        "apply to the host itself: its firewall, its routes and every connection it carries."
    ),
    remediation=(
        "Remove `docker run --privileged` (compose `privileged: true`) and add only the "
        "capabilities the service needs (`cap_drop: [ALL]`, then `cap_add: [...]`), devices "
        "with `devices:`. Tools that "
        "must change the host's network (VPN, firewall managers) belong on a dedicated host."
    ),
    references=(
        cis("5.4", "Ensure that privileged containers are not used"),
        cis("5.10", "Ensure that the host's network namespace is not shared"),
        cwe(250, "Execution with Unnecessary Privileges"),
    ),
)


def shared_networks(snapshot: Snapshot, container: Container) -> list[str]:
    """Networks of the container on which other containers can talk to it."""
    return [
        name
        for name in sorted(container.network_names)
        if members_can_talk(snapshot.network(name))
        and any(m.name != container.name for m in snapshot.members(name))
    ]


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        if not container.privileged:
            continue
        if container.uses_host_network:
            what = "in the host's network namespace: it controls the host's interfaces, routes and firewall"
            severity = Severity.CRITICAL
        else:
            what = "and can reconfigure its network stack, sniff and spoof traffic and load kernel modules"
            severity = Severity.HIGH
            shared = shared_networks(snapshot, container)
            if shared:
                what += f", next to other containers on {', '.join(shared)}"
        yield Observation(
            subject=container,
            message=f"{name_of(container)} runs privileged {what}.",
            key="privileged",
            evidence=(("privileged", "true"), ("network_mode", container.network_mode)),
            severity=severity,
            origin=container.privileged_origin,
        )


RULE = Rule(META, check)
