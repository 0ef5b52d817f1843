"""HOST004: the userland proxy serves published ports (docker-proxy), hiding client addresses.

Fires only when the daemon facts it needs are known (see ``needs``).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import PACKET_FILTERING, cis

META = RuleMeta(
    id="HOST004",
    title="Userland proxy is enabled",
    severity=Severity.LOW,
    rationale=(
        "With the userland proxy every published port runs a docker-proxy process that "
        "accepts connections itself: the container sees the proxy's address instead of the "
        "client's (breaking IP-based access control and logs), each port costs memory and a "
        "process, and hairpin traffic is copied through user space."
    ),
    remediation=(
        "Set `\"userland-proxy\": false` in /etc/docker/daemon.json (or `dockerd "
        "--userland-proxy=false`) and restart the daemon; the kernel's NAT rules then carry "
        "published ports, including hairpin traffic."
    ),
    references=(
        cis("2.15", "Ensure Userland Proxy is Disabled"),
        PACKET_FILTERING,
    ),
    needs=("userland_proxy",),
)


def check_userland_proxy(snapshot: Snapshot) -> Iterator[Observation]:
    if snapshot.daemon.userland_proxy:
        yield Observation(
            subject=snapshot.target,
            message="The userland proxy is enabled: published ports are served by docker-proxy processes and containers see the proxy as the client.",
            key="userland-proxy",
            evidence=(("userland-proxy", "true"),),
        )


RULE = Rule(META, check_userland_proxy)
