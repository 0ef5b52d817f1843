"""The namespace-engine scenarios of ``tests/fixtures/netfilter`` and their probes.

Shared by ``tests/exposure/capture_fixtures.py`` (which saves them as fixtures) and the live
packet test. A scenario: daemon flags, containers and networks, extra rules; its probes are
real TCP connection attempts from the LAN namespace, an "internet" source address, the
host and containers, each tied to the (zone, container, port) cell it tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from support.exposure_lab import HOST_V4, HOST_V6, INTERNET_V4, NetnsEngine


@dataclass
class Scenario:
    name: str
    daemon_args: tuple[str, ...] = ()
    setup: Callable[[NetnsEngine], None] | None = None
    rules: str = ""  # iptables-restore --noflush text applied after the containers
    rules6: str = ""
    nft: str = ""
    notes: str = ""
    extra_probes: list[tuple[str, str, str, int, tuple[str, int]]] = field(default_factory=list)


def standard_setup(engine: NetnsEngine) -> None:
    """Four containers on three bridges, published and unpublished ports."""
    client = engine.client
    assert client is not None
    client.networks.create("appnet", driver="bridge", labels={"io.auditor.test": "1"})
    client.networks.create("othernet", driver="bridge", labels={"io.auditor.test": "1"})
    engine.container("web", listen=(80, 5432), publish={"80/tcp": 8080})
    engine.container("db", listen=(5432,), publish={"5432/tcp": ("127.0.0.1", 15432)}, network="appnet")
    engine.container("cache", listen=(6379,), network="appnet")
    engine.container("api", listen=(80,), publish={"80/tcp": 8081}, network="othernet")


def hostnet_setup(engine: NetnsEngine) -> None:
    standard_setup(engine)
    engine.container("hostsvc", listen=(9000, 9001), network_mode="host")


def ipv6_setup(engine: NetnsEngine) -> None:
    client = engine.client
    assert client is not None
    client.networks.create(
        "v6net",
        driver="bridge",
        enable_ipv6=True,
        ipam={"Config": [{"Subnet": "198.18.40.0/24"}, {"Subnet": "2001:2:0:e0::/64"}]},
        labels={"io.auditor.test": "1"},
    )
    engine.container("web", listen=(80, 5432), publish={"80/tcp": 8080})
    engine.container("v6web", listen=(80, 5432), publish={"80/tcp": 8090}, network="v6net")


def addresses(engine: NetnsEngine) -> dict[str, dict[str, str]]:
    """Container name -> network -> IPv4 address (and ``<net>/6`` -> IPv6)."""
    out: dict[str, dict[str, str]] = {}
    assert engine.client is not None
    for c in engine.client.api.containers():
        doc = engine.client.api.inspect_container(c["Id"])
        name = doc["Name"].lstrip("/")
        for net, ep in (doc["NetworkSettings"]["Networks"] or {}).items():
            if ep.get("IPAddress"):
                out.setdefault(name, {})[net] = ep["IPAddress"]
            if ep.get("GlobalIPv6Address"):
                out.setdefault(name, {})[f"{net}/6"] = ep["GlobalIPv6Address"]
    return out


def gateway(engine: NetnsEngine, network: str) -> str:
    assert engine.client is not None
    doc = engine.client.api.inspect_network(network)
    return doc["IPAM"]["Config"][0]["Gateway"]


def standard_probes(engine: NetnsEngine) -> list[dict]:
    """(zone, from, src, dst, port, target) for the standard containers."""
    ip = addresses(engine)
    probes: list[tuple[str, str, str | None, str, int, tuple[str, int]]] = []
    names = set(ip)
    if "web" in names:
        web = ip["web"]["bridge"]
        probes += [
            ("lan:eth0", "lan", None, HOST_V4, 8080, ("web", 80)),
            ("lan:eth0", "lan", None, web, 80, ("web", 80)),
            ("lan:eth0", "lan", None, web, 5432, ("web", 5432)),
            ("internet:eth0", "lan", INTERNET_V4, HOST_V4, 8080, ("web", 80)),
            ("lan:eth0", "lan", None, HOST_V6, 8080, ("web", 80)),
            ("host", "host", None, "127.0.0.1", 8080, ("web", 80)),
            ("host", "host", None, HOST_V4, 8080, ("web", 80)),
            ("host", "host", None, web, 5432, ("web", 5432)),
        ]
    if "db" in names:
        db, cache = ip["db"]["appnet"], ip["cache"]["appnet"]
        probes += [
            ("lan:eth0", "lan", None, HOST_V4, 15432, ("db", 5432)),
            ("lan:eth0", "lan", None, db, 5432, ("db", 5432)),
            ("lan:eth0", "lan", None, cache, 6379, ("cache", 6379)),
            ("host", "host", None, "127.0.0.1", 15432, ("db", 5432)),
            ("network:appnet", "cache", None, db, 5432, ("db", 5432)),
            ("network:appnet", "cache", None, ip["web"]["bridge"], 80, ("web", 80)),
            ("network:appnet", "cache", None, gateway(engine, "appnet"), 8080, ("web", 80)),
            ("network:bridge", "web", None, db, 5432, ("db", 5432)),
            ("network:bridge", "web", None, gateway(engine, "bridge"), 8081, ("api", 80)),
        ]
    if "api" in names:
        probes += [
            ("lan:eth0", "lan", None, HOST_V4, 8081, ("api", 80)),
            ("lan:eth0", "lan", None, HOST_V6, 8081, ("api", 80)),
            ("internet:eth0", "lan", INTERNET_V4, HOST_V4, 8081, ("api", 80)),
            ("network:othernet", "api", None, ip["web"]["bridge"], 5432, ("web", 5432)),
        ]
    if "hostsvc" in names:
        probes += [
            ("lan:eth0", "lan", None, HOST_V4, 9000, ("hostsvc", 9000)),
            ("lan:eth0", "lan", None, HOST_V4, 9001, ("hostsvc", 9001)),
            ("lan:eth0", "lan", None, HOST_V6, 9000, ("hostsvc", 9000)),
            ("internet:eth0", "lan", INTERNET_V4, HOST_V4, 9001, ("hostsvc", 9001)),
            ("host", "host", None, "127.0.0.1", 9000, ("hostsvc", 9000)),
            ("network:appnet", "cache", None, gateway(engine, "appnet"), 9000, ("hostsvc", 9000)),
        ]
    if "v6web" in names:
        v6 = ip["v6web"]["v6net/6"]
        probes += [
            ("lan:eth0", "lan", None, HOST_V6, 8090, ("v6web", 80)),
            ("lan:eth0", "lan", None, v6, 80, ("v6web", 80)),
            ("lan:eth0", "lan", None, v6, 5432, ("v6web", 5432)),
            ("lan:eth0", "lan", None, HOST_V6, 8080, ("web", 80)),
            ("lan:eth0", "lan", None, ip["v6web"]["v6net"], 5432, ("v6web", 5432)),
        ]
    out = []
    for zone, where, src, dst, port, (target, tport) in probes:
        result = engine.probe(where, dst, port, src=src)
        out.append(
            {
                "zone": zone,
                "from": where,
                "source": src,
                "destination": f"[{dst}]:{port}" if ":" in dst else f"{dst}:{port}",
                "target": target,
                "target_port": tport,
                "outcome": result.outcome,
            }
        )
    return out


USER_ALLOW = """*filter
-I DOCKER-USER 1 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-I DOCKER-USER 2 -i eth0 -s 198.18.0.0/24 -j RETURN
-I DOCKER-USER 3 -i eth0 -j DROP
COMMIT
"""
USER_PORT = """*filter
-I DOCKER-USER 1 -i eth0 -p tcp -m tcp --dport 8081 -j DROP
-I DOCKER-USER 2 -i eth0 -p tcp -m conntrack --ctorigdstport 8080 -j DROP
-I DOCKER-USER 3 -i eth0 -p tcp -m tcp --dport 6379 -j DROP
COMMIT
*raw
-A PREROUTING -d 198.18.16.0/24 ! -i docker0 -p tcp -m tcp --dport 5432 -j DROP
COMMIT
"""
UFW = """*filter
:ufw-before-input - [0:0]
:ufw-user-input - [0:0]
:ufw-after-input - [0:0]
:ufw-before-forward - [0:0]
:ufw-user-forward - [0:0]
-P INPUT DROP
-P FORWARD DROP
-A INPUT -j ufw-before-input
-A INPUT -j ufw-after-input
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-input -m conntrack --ctstate INVALID -j DROP
-A ufw-before-input -p udp -m udp --sport 67 --dport 68 -j ACCEPT
-A ufw-before-input -j ufw-user-input
-A ufw-user-input -p tcp -m tcp --dport 22 -m comment --comment "\\'dapp_OpenSSH\\'" -j ACCEPT
-A ufw-user-input -p tcp -m multiport --dports 9001,9100:9200 -j ACCEPT
-A ufw-user-input -i docker0 -j ACCEPT
-A ufw-after-input -p udp -m udp --dport 137 -j DROP
-A FORWARD -j ufw-before-forward
-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-forward -j ufw-user-forward
COMMIT
"""
UNKNOWN_MATCH = """*filter
-I DOCKER-USER 1 -i eth0 -p tcp -m recent --name audexp --rcheck --seconds 60 -j DROP
-I DOCKER-USER 2 -i eth0 -p udp -m limit --limit 1/s -j DROP
COMMIT
"""
NFT_TABLE = """table inet audexp {
  chain forward_guard {
    type filter hook forward priority 10; policy accept;
    iifname "eth0" tcp dport { 5432, 6379 } counter drop
    iifname "eth0" meta l4proto tcp ct original proto-dst 8081 drop
  }
}
"""

SCENARIOS = {
    s.name: s
    for s in (
        Scenario("default", setup=standard_setup, notes="dockerd defaults (userland proxy on, icc on)"),
        Scenario("proxy-off", ("--userland-proxy=false",), standard_setup, notes="--userland-proxy=false"),
        Scenario("icc-off", ("--icc=false",), standard_setup, notes="--icc=false"),
        Scenario("iptables-off", ("--iptables=false",), standard_setup, notes="--iptables=false"),
        Scenario(
            "ipv6",
            ("--ipv6", "--fixed-cidr-v6", "2001:2:0:d0::/64", "--experimental", "--ip6tables"),
            ipv6_setup,
            notes="--ipv6 --fixed-cidr-v6 2001:2:0:d0::/64 --experimental --ip6tables",
        ),
        Scenario(
            "user-allow",
            setup=standard_setup,
            rules=USER_ALLOW,
            notes="DOCKER-USER allow-list: the LAN subnet only",
        ),
        Scenario(
            "user-port",
            setup=standard_setup,
            rules=USER_PORT,
            notes="DOCKER-USER drops by --dport and by --ctorigdstport; raw PREROUTING guard",
        ),
        Scenario(
            "ufw",
            setup=hostnet_setup,
            rules=UFW,
            notes="UFW-style INPUT/FORWARD chains, a host-network container",
        ),
        Scenario(
            "unknown-match",
            setup=standard_setup,
            rules=UNKNOWN_MATCH,
            notes="DOCKER-USER rules with -m recent and -m limit",
        ),
        Scenario(
            "nft-table",
            setup=standard_setup,
            nft=NFT_TABLE,
            notes="an nftables table inet audexp on the forward hook",
        ),
    )
}


def prepare(engine: NetnsEngine, scenario: Scenario) -> None:
    """Create the scenario's networks and containers and apply its extra rules."""
    if scenario.setup:
        scenario.setup(engine)
    if scenario.rules:
        engine.iptables_restore(scenario.rules)
    if scenario.rules6:
        engine.iptables_restore(scenario.rules6, ipv6=True)
    if scenario.nft:
        engine.host("nft", "-f", "-", input=scenario.nft)
    time.sleep(1.0)  # let the docker-proxy processes start listening
