"""HOST004-HOST007: daemon settings that weaken network isolation.

A tight family: each reads one or two daemon facts and fires only when they are known.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, docs

PACKET_FILTERING = docs(
    "Docker docs: Packet filtering and firewalls", "https://docs.docker.com/engine/network/packet-filtering-firewalls/"
)

HOST004 = RuleMeta(
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

HOST005 = RuleMeta(
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
        "Remove `\"iptables\": false` from /etc/docker/daemon.json (or `--iptables=false` "
        "from the dockerd command line) and restart the daemon; express custom policy in the "
        "DOCKER-USER chain instead."
    ),
    references=(
        cis("2.3", "Ensure Docker is allowed to make changes to iptables"),
        PACKET_FILTERING,
    ),
    needs=("iptables",),
)

HOST006 = RuleMeta(
    id="HOST006",
    title="Default bind address for published ports is all interfaces",
    severity=Severity.LOW,
    rationale=(
        "A port published without an address (`-p 8080:80`, compose `\"8080:80\"`) binds to "
        "the daemon's `ip` setting, which defaults to 0.0.0.0: every forgotten host address "
        "becomes a port open to the world. A loopback default makes exposure opt-in."
    ),
    remediation=(
        "Set `\"ip\": \"127.0.0.1\"` in /etc/docker/daemon.json (or `dockerd --ip=127.0.0.1`) "
        "and publish public ports explicitly: `docker run -p 0.0.0.0:443:443 ...`. For one "
        "network: `docker network create -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 app`."
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(1327, "Binding to an Unrestricted IP Address"),
    ),
    needs=("default_bind_ip",),
)

HOST007 = RuleMeta(
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
        "Set `\"ip6tables\": true` in /etc/docker/daemon.json (or `dockerd --ip6tables`; "
        "default from engine 27.0) and restart the daemon, or disable IPv6 on the network: "
        "`docker network create --ipv6=false app`, compose `enable_ipv6: false`."
    ),
    references=(
        cwe(693, "Protection Mechanism Failure"),
        docs("Docker docs: Use IPv6 networking", "https://docs.docker.com/engine/daemon/ipv6/"),
    ),
    needs=("ip6tables", "ipv6"),
)


def check_userland_proxy(snapshot: Snapshot) -> Iterator[Observation]:
    if snapshot.daemon.userland_proxy:
        yield Observation(
            subject=snapshot.target,
            message="The userland proxy is enabled: published ports are served by docker-proxy processes and containers see the proxy as the client.",
            key="userland-proxy",
            evidence=(("userland-proxy", "true"),),
        )


def check_iptables(snapshot: Snapshot) -> Iterator[Observation]:
    if snapshot.daemon.iptables is False:
        yield Observation(
            subject=snapshot.target,
            message="Docker's iptables management is disabled: network isolation and published-port rules are not maintained by Docker.",
            key="iptables",
            evidence=(("iptables", "false"),),
        )


def check_default_bind(snapshot: Snapshot) -> Iterator[Observation]:
    bind = snapshot.daemon.default_bind_ip
    if bind is None or bind not in ("", "0.0.0.0", "::"):
        return
    yield Observation(
        subject=snapshot.target,
        message=f"The daemon's default bind address is {bind or '0.0.0.0'}: ports published without a host address listen on all interfaces.",
        key="ip",
        evidence=(("ip", bind or "(unset)"),),
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


RULES = (
    Rule(HOST004, check_userland_proxy),
    Rule(HOST005, check_iptables),
    Rule(HOST006, check_default_bind),
    Rule(HOST007, check_ipv6),
)
