"""NET005: inter-container communication is allowed on the default bridge (daemon ``icc``),
or on a user-defined bridge that holds unrelated workloads (``enable_icc``).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, format_groups, unrelated_groups, user_networks

ICC = "com.docker.network.bridge.enable_icc"

META = RuleMeta(
    id="NET005",
    title="Inter-container communication allowed between unrelated containers",
    severity=Severity.MEDIUM,
    rationale=(
        "With icc on (the default) every container on the default bridge can open any port "
        "of every other one: a compromised container can attack its neighbours' databases "
        "and admin ports. The same holds for a user-defined bridge shared by unrelated "
        "projects unless its `enable_icc` option is false."
    ),
    remediation=(
        'Set `"icc": false` in /etc/docker/daemon.json (or `dockerd --icc=false`) and link '
        "what must talk over user-defined networks. For a shared user-defined bridge: "
        "`docker network create -o com.docker.network.bridge.enable_icc=false shared`, in "
        'compose `driver_opts: {com.docker.network.bridge.enable_icc: "false"}`.'
    ),
    references=(
        cis("2.1", "Ensure network traffic is restricted between containers on the default bridge"),
        cwe(923, "Improper Restriction of Communication Channel to Intended Endpoints"),
    ),
    needs=("icc",),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    if snapshot.daemon.icc:
        bridge = next((n for n in snapshot.networks if n.is_default_bridge), None)
        yield Observation(
            subject=bridge if bridge is not None else snapshot.target,
            message=(
                "Inter-container communication (icc) is enabled on the default bridge: "
                "containers on it can reach each other on every port."
            ),
            key="icc",
            evidence=(("icc", "true"),),
        )
    for net in user_networks(snapshot):
        if net.driver != "bridge" or (net.option(ICC) or "true").lower() == "false":
            continue
        groups = unrelated_groups(net, snapshot.members(net.name))
        if groups is None:
            continue
        yield Observation(
            subject=net,
            message=(
                f"network {net.name} allows inter-container communication between {format_groups(groups)}."
            ),
            key="enable_icc",
            evidence=((ICC, net.option(ICC) or "(default: true)"),),
        )


RULE = Rule(META, check)
