"""NET007: a container is attached to a macvlan or ipvlan network.

It gets its own address on the physical LAN: its ports are open to the LAN directly, without
Docker's port publishing, and the host's firewall never sees its traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs, name_of

LAN_DRIVERS = ("macvlan", "ipvlan")

META = RuleMeta(
    id="NET007",
    title="Container attached straight to the LAN (macvlan/ipvlan)",
    severity=Severity.MEDIUM,
    rationale=(
        "On a macvlan or ipvlan network the container is a host on the physical network: "
        "every port it listens on is reachable from the LAN without any `-p` mapping to "
        "review, and its traffic bypasses the host's iptables/UFW/firewalld rules."
    ),
    remediation=(
        "Use a bridge network and publish only the ports needed: `docker run --network app "
        "-p 192.168.1.10:443:443 ...`; in compose use a bridge network and `ports:`. If LAN "
        "presence is required, firewall the container's address on the upstream router and "
        "keep the service's own listening addresses minimal."
    ),
    references=(
        cwe(923, "Improper Restriction of Communication Channel to Intended Endpoints"),
        docs(
            "Docker docs: Macvlan network driver", "https://docs.docker.com/engine/network/drivers/macvlan/"
        ),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        for name in container.network_names:
            net = snapshot.network(name)
            if net is None or net.driver not in LAN_DRIVERS:
                continue
            parent = net.option("parent")
            on = f" on parent interface {parent}" if parent else ""
            yield Observation(
                subject=container,
                message=f"{name_of(container)} is attached to {net.driver} network {net.name}{on}: it sits directly on the LAN.",
                key=f"{net.name}",
                evidence=(("network", net.name), ("driver", net.driver or ""), ("parent", parent or "-")),
            )


RULE = Rule(META, check)
