"""HOST007: containers get IPv6 but Docker does not filter it (ip6tables off).

Fires only when the daemon facts it needs are known (see ``needs``).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs

META = RuleMeta(
    id="HOST007",
    title="IPv6 enabled without ip6tables",
    severity=Severity.MEDIUM,
    rationale=(
        "When containers get IPv6 addresses but Docker does not manage ip6tables, none of the "
        "IPv4 isolation applies to IPv6: published-port filtering, network isolation and "
        "DOCKER-USER rules are missing, and containers with global IPv6 addresses are directly "
        "reachable."
    ),
    remediation=(
        'Set `"ip6tables": true` in /etc/docker/daemon.json (or `dockerd --ip6tables`; '
        "default from engine 27.0) and restart the daemon, or disable IPv6 on the network: "
        "`docker network create --ipv6=false app`, compose `enable_ipv6: false`."
    ),
    references=(
        cwe(693, "Protection Mechanism Failure"),
        docs("Docker docs: Use IPv6 networking", "https://docs.docker.com/engine/daemon/ipv6/"),
    ),
    needs=("ip6tables", "ipv6"),
)


def check_ipv6(snapshot: Snapshot) -> Iterator[Observation]:
    facts = snapshot.daemon
    if facts.ip6tables is not False:
        return
    if facts.ipv6:
        yield Observation(
            subject=snapshot.target,
            message="IPv6 is enabled on the default bridge (daemon ipv6) but ip6tables is off: IPv6 traffic to containers is not filtered.",
            key="daemon",
            evidence=(("ipv6", "true"), ("ip6tables", "false")),
        )
    for net in snapshot.networks:
        if net.enable_ipv6 and not (facts.ipv6 and net.is_default_bridge):
            yield Observation(
                subject=net,
                message=f"network {net.name} has IPv6 enabled but ip6tables is off: its IPv6 traffic is not filtered or isolated.",
                key="network",
                evidence=(("enable_ipv6", "true"), ("ip6tables", "false")),
            )


RULE = Rule(META, check_ipv6)
