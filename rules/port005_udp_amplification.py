"""PORT005: an amplification-prone UDP service (DNS, NTP, SNMP, SSDP, memcached...) is
published beyond loopback.

Such services answer a small spoofed request with a large reply, so an open one is abused to
flood third parties and gets the host's address blocklisted.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import (
    cwe,
    docs,
    entries,
    name_of,
    reaches_beyond_loopback,
    where,
)
from .services import udp_amplifier

META = RuleMeta(
    id="PORT005",
    title="Amplification-prone UDP service published beyond loopback",
    severity=Severity.HIGH,
    rationale=(
        "UDP has no handshake, so anyone can send a request with a forged source address. "
        "DNS, NTP, SNMP, SSDP, CLDAP, memcached, chargen and similar services reply with many "
        "times more data than they receive, which turns an open port into a weapon for "
        "reflected denial-of-service attacks against third parties."
    ),
    remediation=(
        "Do not publish the UDP port beyond the host: `docker run -p 127.0.0.1:53:53/udp ...` "
        'or in compose `ports: ["127.0.0.1:53:53/udp"]`. If it must serve the network, bind '
        "it to the internal interface only (`-p 10.0.0.5:53:53/udp`), restrict clients in the "
        "DOCKER-USER chain, and disable open recursion/monlist/public communities in the service."
    ),
    references=(
        cwe(406, "Insufficient Control of Network Message Volume (Network Amplification)"),
        docs(
            "CISA alert TA14-017A: UDP-Based Amplification Attacks",
            "https://www.cisa.gov/news-events/alerts/2014/01/17/udp-based-amplification-attacks",
        ),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    # UDP first: entries never span protocols, and the address check is the costly part.
    for container, entry in entries(
        snapshot, lambda p: p.protocol == "udp" and reaches_beyond_loopback(p, snapshot)
    ):
        hit = next(((p, a) for p in entry.bindings if (a := udp_amplifier(p)) is not None), None)
        if hit is None:
            continue
        port, amp = hit
        yield Observation(
            subject=container,
            message=(
                f"{name_of(container)} publishes {amp.name} ({port.container_port}/udp) on "
                f"{where(port)}: replies can be {amp.factor} larger than requests, usable for "
                "reflected DDoS."
            ),
            key=entry.key,
            evidence=(*entry.evidence(), ("service", amp.name), ("amplification", amp.factor)),
            origin=port.origin,
        )


RULE = Rule(META, check)
