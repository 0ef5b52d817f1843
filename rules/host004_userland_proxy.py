"""HOST004: the userland proxy serves published ports (docker-proxy), hiding client addresses.

Only for the connections the proxy carries: a lab engine (20.10, iptables on) showed a LAN
client DNAT-ed to the container with its own address, and a client on the host itself arriving
from the bridge gateway through docker-proxy. Fires only when the daemon facts it needs are
known (see ``needs``).
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
        "With the userland proxy every published port also gets a docker-proxy process "
        "listening on the host port. The kernel's NAT carries connections from other hosts (the "
        "container sees the real client), but the proxy accepts the connections NAT does not "
        "carry: from the host itself to 127.0.0.1, and all of them where Docker does not manage "
        "iptables (or ip6tables, for IPv6). Those reach the container from the proxy's address "
        "instead of the client's, breaking IP-based access control and logs; each port costs a "
        "process and memory, and that traffic is copied through user space."
    ),
    remediation=(
        'Set `"userland-proxy": false` in /etc/docker/daemon.json (or `dockerd '
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
    if not snapshot.daemon.userland_proxy:
        return
    carried = (
        "every connection, as Docker's iptables management is off"
        if snapshot.daemon.iptables is False
        else "those from this host to loopback and any the kernel's NAT does not carry"
    )
    yield Observation(
        subject=snapshot.target,
        message=(
            "The userland proxy is enabled: a docker-proxy process listens on every published port, "
            f"and the connections it carries ({carried}) reach containers from the proxy's address, "
            "not the client's."
        ),
        key="userland-proxy",
        evidence=(("userland-proxy", "true"),),
    )


RULE = Rule(META, check_userland_proxy)
