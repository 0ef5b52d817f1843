"""The exposure scenarios of issue 13 on lab engines: containers, networks and extra rules.

Shared by the lab tests (``tests/lab/test_exposure_*.py``) and by
``tests/exposure/capture_fixtures.py`` (which saves a scenario's dumps as a fixture).
Rule texts are ``iptables-restore --noflush`` input; ``{name}`` fields are filled from the
engine (``fill``): ``lan`` (the LAN subnet), ``laptop``, ``internet`` (the internet
segment), ``bridge`` (docker0's subnet), ``appnet_bridge`` (its Linux bridge) and each
container's IPv4 address by name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .exposure_lab import addresses, serve, wait_answer, wait_serving
from .lab import Lab
from .lab.plan import INTERNET

NETWORKS = ("appnet", "othernet")
PORTS = {"web": (80, 5432), "db": (5432,), "cache": (6379,), "api": (80,)}
PROBERS = {"bridge": "pbridge", "appnet": "pappnet", "othernet": "pother"}
HOST_SERVICE = {"hostsvc": (9000, 9001)}
V6_PORTS = {"v6web": (80, 5432)}


@dataclass
class Setup:
    """What ``standard`` started on an engine: server name -> ports, network -> prober."""

    servers: dict[str, tuple[int, ...]] = field(default_factory=dict)
    probers: dict[str, str] = field(default_factory=dict)


def standard(lab: Lab, engine: str, *, host_service: bool = False, ipv6: bool = False) -> Setup:
    """Four servers on three bridges, published and unpublished ports, one published on
    127.0.0.1, a silent prober per network; a host-network server; an IPv6 network."""
    client = lab.engines[engine].client
    for name in NETWORKS:
        client.networks.create(name, driver="bridge", labels={"io.auditor.test": "1"})
    setup = Setup(dict(PORTS), dict(PROBERS))
    serve(lab, engine, "web", PORTS["web"], publish={80: 8080})
    serve(lab, engine, "db", PORTS["db"], network="appnet", publish={5432: ("127.0.0.1", 15432)})
    serve(lab, engine, "cache", PORTS["cache"], network="appnet")
    serve(lab, engine, "api", PORTS["api"], network="othernet", publish={80: 8081})
    if host_service:
        serve(lab, engine, "hostsvc", HOST_SERVICE["hostsvc"], network_mode="host")
        setup.servers.update(HOST_SERVICE)
    if ipv6:
        index = lab.engines[engine].plan.index
        client.networks.create(
            "v6net",
            driver="bridge",
            enable_ipv6=True,
            ipam={
                "Config": [
                    {"Subnet": f"198.19.{16 * index + 12}.0/24"},
                    {"Subnet": f"2001:2:0:{0xE0 + index:x}::/64"},
                ]
            },
            labels={"io.auditor.test": "1"},
        )
        serve(lab, engine, "v6web", V6_PORTS["v6web"], network="v6net", publish={80: 8090})
        setup.servers.update(V6_PORTS)
        setup.probers["v6net"] = "pv6"
    for network, name in setup.probers.items():
        serve(lab, engine, name, network=network)
    wait_serving(lab, engine, [n for n in setup.servers if n not in HOST_SERVICE], setup.servers)
    if host_service:
        for port in HOST_SERVICE["hostsvc"]:
            wait_answer(lab, engine, lab.engines[engine].lan_ip, port, "hostsvc")
    wait_answer(lab, engine, "127.0.0.1", 8080, "web")  # through the proxies (or DNAT) too
    wait_answer(lab, engine, "127.0.0.1", 8081, "api")
    return setup


def fill(lab: Lab, engine: str, text: str, lan_host: str | None = None) -> str:
    """A rule text with the engine's own addresses (``laptop``: ``lan_host``'s, else the
    first LAN host's; ``remote``: the first internet host's)."""
    eng = lab.engines[engine]
    api = eng.client.api
    hosts = {h.plan.segment: h for h in reversed(list(lab.hosts.values()))}
    values = {
        "lan": str(lab.plan.lan),
        "laptop": lab.hosts[lan_host].lan_ip if lan_host else hosts["lan"].lan_ip,
        "remote": hosts["internet"].lan_ip if "internet" in hosts else "",
        "engine": eng.lan_ip,
        "internet": str(INTERNET),
        "bridge": str(eng.plan.bridge_cidr),
        "appnet_bridge": f"br-{api.inspect_network('appnet')['Id'][:12]}",
        "othernet_bridge": f"br-{api.inspect_network('othernet')['Id'][:12]}",
    }
    for c in api.containers():
        name = c["Names"][0].lstrip("/")
        v4 = next((a for a, _ in addresses(lab, engine, name).values() if a), None)
        if v4:
            values[name] = v4
    return text.format(**values)


def apply(lab: Lab, engine: str, text: str, ipv6: bool = False) -> None:
    lab.run(engine, ["ip6tables-restore" if ipv6 else "iptables-restore", "-w", "--noflush"], input=text)


def restore(lab: Lab, engine: str, saved: str, ipv6: bool = False) -> None:
    """Back to a full earlier ``iptables-save`` (Docker's chains as they were)."""
    lab.run(engine, ["ip6tables-restore" if ipv6 else "iptables-restore", "-w"], input=saved)


def in_subnet(address: str, subnet: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(subnet)


USER_ALLOW = """*filter
-I DOCKER-USER 1 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-I DOCKER-USER 2 -i eth0 -s {lan} -j RETURN
-I DOCKER-USER 3 -i eth0 -j DROP
COMMIT
"""
# The mistake (--dport sees the container's port after DNAT, so 8081 stays open), the fix
# (--ctorigdstport sees the port the client asked for) and a raw-table guard against
# direct routing to one unpublished port (what Docker 28 adds for every port).
USER_PORT = """*filter
-I DOCKER-USER 1 -i eth0 -p tcp -m tcp --dport 8081 -j DROP
-I DOCKER-USER 2 -i eth0 -p tcp -m conntrack --ctorigdstport 8080 -j DROP
-I DOCKER-USER 3 -i eth0 -p tcp -m tcp --dport 6379 -j DROP
COMMIT
*raw
-A PREROUTING -d {bridge} ! -i docker0 -p tcp -m tcp --dport 5432 -j DROP
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
-A ufw-user-input -p tcp -m tcp --dport 22 -m comment --comment "dapp_OpenSSH" -j ACCEPT
-A ufw-user-input -p tcp -m multiport --dports 9001,9100:9200 -j ACCEPT
-A ufw-user-input -i docker0 -j ACCEPT
-A ufw-after-input -p udp -m udp --dport 137 -j DROP
-A FORWARD -j ufw-before-forward
-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-forward -j ufw-user-forward
COMMIT
"""
UNKNOWN_MATCH = """*filter
-I DOCKER-USER 1 -i eth0 -p tcp -m limit --limit 1/hour --limit-burst 1 -j DROP
COMMIT
"""
NFT_TABLE = """table inet audexp {{
  chain forward_guard {{
    type filter hook forward priority 10; policy accept;
    iifname "eth0" tcp dport {{ 5432, 6379 }} counter drop
    iifname "eth0" meta l4proto tcp ct original proto-dst 8081 drop
  }}
}}
"""
