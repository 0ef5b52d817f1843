"""NET009: containers that keep Docker's default NET_RAW capability share a network.

One finding per network (not one per container): it names every member that keeps NET_RAW.
Privileged containers and added capabilities are NET010 and NET011.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, has_cap, members_can_talk, name_of

META = RuleMeta(
    id="NET009",
    title="Containers keeping NET_RAW share a network",
    severity=Severity.LOW,
    rationale=(
        "Containers on one bridge share an L2 segment. Docker's default NET_RAW capability is "
        "enough for raw sockets and ARP/DNS spoofing, so any member that is compromised can "
        "redirect or read its neighbours' plain-text traffic. Few services need raw sockets."
    ),
    remediation=(
        "Drop it where it is not needed: `docker run --cap-drop NET_RAW ...` (or "
        "`--cap-drop ALL --cap-add ...`); in compose `cap_drop: [NET_RAW]` on each service of "
        "the network."
    ),
    references=(
        cis("5.3", "Ensure that Linux kernel capabilities are restricted within containers"),
        cwe(250, "Execution with Unnecessary Privileges"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for net in snapshot.networks:
        if not members_can_talk(net):
            continue
        members = [
            c for c in snapshot.members(net.name) if not c.uses_host_network and not c.joined_namespace
        ]
        if len(members) < 2:
            continue
        keeping = sorted(
            name_of(c) for c in members if not c.privileged and not has_cap(c.cap_drop, "NET_RAW")
        )
        if not keeping:
            continue
        listed = ", ".join(keeping)
        yield Observation(
            subject=net,
            message=(
                f"network {net.name}: {len(keeping)} of {len(members)} containers keep the default NET_RAW "
                f"capability ({listed}); any of them can spoof or sniff the others' traffic."
            ),
            key="NET_RAW",
            evidence=(("capability", "NET_RAW"), ("members", listed), ("network", net.name)),
        )


RULE = Rule(META, check)
