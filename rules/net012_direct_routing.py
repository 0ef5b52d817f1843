"""NET012: a container port that is not published is reachable from the LAN by direct routing.

Publishing is not the only way in. A neighbour on the host's LAN that adds a route for a
Docker subnet via this host sends packets straight to a container's address; when the host
forwards (``ip_forward=1``) and nothing in FORWARD / DOCKER-USER drops them, they reach every
port the container listens on, published or not. Docker before 28.0 adds no rule against it,
and a FORWARD policy left at ACCEPT (Docker sets DROP only when it enables forwarding itself)
lets them through. Reported from the exposure analysis (``Snapshot.exposure``) only, with the
trace of the netfilter rules that let the packet in; silent when the analysis did not run or
could not decide.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.exposure import Reach
from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import PACKET_FILTERING, cwe, docs, name_of

LAN = frozenset({"lan"})

META = RuleMeta(
    id="NET012",
    title="Unpublished container port reachable from the LAN by direct routing",
    severity=Severity.MEDIUM,
    rationale=(
        "A port that is not published is assumed to be private to its Docker network. But the "
        "host is a router for its bridges: a machine on the same LAN that routes the Docker "
        "subnet via this host reaches the container's own address, and with a FORWARD chain that "
        "accepts such packets every port the container listens on is open to it, with no NAT "
        "and no published port in between."
    ),
    remediation=(
        "Drop forwarded connections to containers that did not come through Docker's port "
        "publishing: `iptables -I DOCKER-USER -i eth0 -m conntrack --ctstate NEW ! --ctstatus "
        "DNAT -j DROP` (persist it with your firewall tool), or set the FORWARD policy to DROP "
        "(`iptables -P FORWARD DROP`). Docker 28 and later drop such packets itself unless "
        "`allow-direct-routing` or the `nat-unprotected` gateway mode is set; networks that "
        "need no outside access can be `internal: true`."
    ),
    references=(
        cwe(668, "Exposure of Resource to Wrong Sphere"),
        PACKET_FILTERING,
        docs(
            "Docker docs: Direct routing",
            "https://docs.docker.com/engine/network/packet-filtering-firewalls/#direct-routing",
        ),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    exposure = snapshot.exposure
    if exposure is None:
        return
    by_name = {c.name: c for c in snapshot.containers}
    for pr in exposure.ports:
        container = by_name.get(pr.container)
        if container is None or pr.published:
            continue
        cells = tuple(c for c in pr.zones(Reach.REACHABLE, LAN) if c.via == "direct")
        if not cells:
            continue
        first = cells[0]
        zones = ", ".join(c.zone for c in cells)
        yield Observation(
            subject=container,
            message=(
                f"{name_of(container)} does not publish {pr.port}/{pr.protocol}, but a LAN host that routes "
                f"the container's subnet via this host reaches it at {first.destination} ({zones}): {first.trace}."
            ),
            key=f"direct:{pr.port}/{pr.protocol}",
            evidence=(
                ("container_port", f"{pr.port}/{pr.protocol}"),
                ("reachable_from", zones),
                ("destination", first.destination or ""),
                ("trace", first.trace),
            ),
        )


RULE = Rule(META, check)
