"""NET009: a container that can spoof or sniff sits on a network shared with others.

``NET_ADMIN`` or privileged mode (high) lets it reconfigure interfaces, ARP-spoof and sniff
its neighbours; the default ``NET_RAW`` (low, unless dropped) already allows raw packets,
ARP and DNS spoofing on a bridge.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Container, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, has_cap, members_can_talk, name_of

META = RuleMeta(
    id="NET009",
    title="Container able to spoof or sniff shares a network with others",
    severity=Severity.HIGH,
    rationale=(
        "Containers on one bridge share an L2 segment. With NET_ADMIN or privileged mode a "
        "container can change its addresses, ARP-spoof its neighbours and capture their "
        "traffic; Docker's default NET_RAW capability alone is enough for raw sockets and "
        "ARP/DNS spoofing. Neighbours' plain-text traffic and sessions are then exposed."
    ),
    remediation=(
        "Drop what the container does not need: `docker run --cap-drop NET_RAW ...` (or "
        "`--cap-drop ALL --cap-add ...`), remove `--cap-add NET_ADMIN` and `--privileged`; in "
        "compose `cap_drop: [NET_RAW]`, no `cap_add: [NET_ADMIN]`, no `privileged: true`. Put "
        "containers that really need them on a network of their own."
    ),
    references=(
        cis("5.3", "Ensure that Linux kernel capabilities are restricted within containers"),
        cis("5.4", "Ensure that privileged containers are not used"),
        cwe(250, "Execution with Unnecessary Privileges"),
    ),
)


def _power(container: Container) -> tuple[str, Severity, str] | None:
    """What lets the container spoof or sniff, its severity, and a fingerprint key."""
    if container.privileged:
        return "runs privileged", Severity.HIGH, "privileged"
    if has_cap(container.cap_add, "NET_ADMIN"):
        return "has NET_ADMIN", Severity.HIGH, "NET_ADMIN"
    if not has_cap(container.cap_drop, "NET_RAW"):
        return "keeps the default NET_RAW capability", Severity.LOW, "NET_RAW"
    return None


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        if container.uses_host_network or container.joined_namespace:
            continue
        power = _power(container)
        if power is None:
            continue
        shared = [
            name
            for name in sorted(container.network_names)
            if members_can_talk(snapshot.network(name))
            and any(m.name != container.name for m in snapshot.members(name))
        ]
        if not shared:
            continue
        what, severity, key = power
        nets = ", ".join(shared)
        plural = "s" if len(shared) > 1 else ""
        yield Observation(
            subject=container,
            message=(
                f"{name_of(container)} {what} on network{plural} {nets} shared with other containers: "
                "it can spoof or sniff their traffic."
            ),
            key=key,
            evidence=(("capability", what), ("networks", nets)),
            severity=severity,
        )


RULE = Rule(META, check)
