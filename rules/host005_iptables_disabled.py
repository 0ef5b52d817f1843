"""HOST005: Docker does not manage iptables, so isolation and published-port rules are missing.

Fires only when the daemon facts it needs are known (see ``needs``).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import PACKET_FILTERING, cis

META = RuleMeta(
    id="HOST005",
    title="Docker's iptables management is disabled",
    severity=Severity.MEDIUM,
    rationale=(
        "With `iptables: false` Docker neither isolates networks from each other nor sets up "
        "the NAT and filter rules for published ports; whatever rules an administrator wrote "
        "by hand decide what is reachable, usually too much (containers route freely between "
        "networks) or nothing at all."
    ),
    remediation=(
        'Remove `"iptables": false` from /etc/docker/daemon.json (or `--iptables=false` '
        "from the dockerd command line) and restart the daemon; express custom policy in the "
        "DOCKER-USER chain instead."
    ),
    references=(
        cis("2.3", "Ensure Docker is allowed to make changes to iptables"),
        PACKET_FILTERING,
    ),
    needs=("iptables",),
)


def check_iptables(snapshot: Snapshot) -> Iterator[Observation]:
    if snapshot.daemon.iptables is False:
        yield Observation(
            subject=snapshot.target,
            message="Docker's iptables management is disabled: network isolation and published-port rules are not maintained by Docker.",
            key="iptables",
            evidence=(("iptables", "false"),),
        )


RULE = Rule(META, check_iptables)
