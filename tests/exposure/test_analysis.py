"""The analysis when host facts change or are missing, on variants of real dumps."""

from __future__ import annotations

import json

from support.exposure_fixtures import load_scenario

from auditor.exposure.analysis import analyze_exposure, bridge_name, synthesized_proxies
from auditor.exposure.facts import firewall_facts, host_network
from auditor.exposure.hostnet import ProxyListener
from auditor.exposure.matrix import Verdict
from auditor.model.records import Container, DaemonFacts, Network, PortBinding

DEFAULT = load_scenario("default")
ICC_OFF = load_scenario("icc-off")


def network_with(scenario, **changes):
    texts = {
        "ip_addr": scenario.network.ip_addr,
        "ip_route": scenario.network.ip_route,
        "ip6_route": scenario.network.ip6_route,
        "sysctl": scenario.network.sysctl,
        "docker_proxy": scenario.network.docker_proxy,
        "ss_listen": scenario.network.ss_listen,
    }
    texts.update(changes)
    return host_network(**texts)


def firewall_with(scenario, **changes):
    fw = scenario.firewall
    texts = {"iptables_save": fw.iptables_save, "ip6tables_save": fw.ip6tables_save, "nft_json": fw.nft_json}
    texts.update(changes)
    return firewall_facts(**texts)


def sysctl_with(scenario, key: str, value: str | None) -> str:
    lines = [line for line in (scenario.network.sysctl or "").splitlines() if not line.startswith(key + " ")]
    return "\n".join(lines + ([f"{key} = {value}"] if value is not None else [])) + "\n"


def attempt(matrix, zone, container, port, destination):
    return next(a for a in matrix.cell(zone, container, port).attempts if a.destination == destination)


def test_without_forwarding_nothing_is_routed_to_containers():
    net = network_with(DEFAULT, sysctl=sysctl_with(DEFAULT, "net.ipv4.ip_forward", "0"))
    m = DEFAULT.analyze(network=net, every=True)
    direct = attempt(m, "lan:eth0", "web", 5432, "198.18.16.2:5432")
    assert direct.verdict is Verdict.BLOCKED and direct.trace == "not forwarded (ip_forward=0)"
    published = attempt(m, "lan:eth0", "web", 80, "198.18.0.1:8080")
    assert (
        published.trace
        == "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT 198.18.16.2:80 -> not forwarded (ip_forward=0)"
    )
    # docker-proxy does not need forwarding: IPv6 clients still get in.
    assert m.cell("lan:eth0", "web", 80).verdict is Verdict.REACHABLE


def test_unread_sysctls_make_forwarded_answers_unknown():
    net = network_with(DEFAULT, sysctl=sysctl_with(DEFAULT, "net.ipv4.ip_forward", None))
    m = DEFAULT.analyze(network=net)
    cell = m.cell("lan:eth0", "web", 5432)
    assert cell.verdict is Verdict.UNKNOWN and cell.decisive.reasons == ("ip_forward not read",)
    assert m.cell("host", "web", 5432).verdict is Verdict.REACHABLE  # the host does not forward


def test_bridged_traffic_skips_iptables_without_br_netfilter():
    same = ICC_OFF.analyze().cell("network:bridge", "web", 5432)
    assert same.verdict is Verdict.BLOCKED  # icc=false: -i docker0 -o docker0 -j DROP
    off = network_with(ICC_OFF, sysctl=sysctl_with(ICC_OFF, "net.bridge.bridge-nf-call-iptables", "0"))
    cell = ICC_OFF.analyze(network=off).cell("network:bridge", "web", 5432)
    assert cell.verdict is Verdict.REACHABLE and cell.trace == "bridged on docker0, iptables not called"
    unread = network_with(ICC_OFF, sysctl=sysctl_with(ICC_OFF, "net.bridge.bridge-nf-call-iptables", None))
    cell = ICC_OFF.analyze(network=unread).cell("network:bridge", "web", 5432)
    assert cell.verdict is Verdict.UNKNOWN
    assert cell.decisive.undecided == ("net.bridge.bridge-nf-call-iptables",)


def test_proxies_unread_are_unknown_unless_the_daemon_settings_say():
    net = network_with(DEFAULT, docker_proxy=None)
    m = DEFAULT.analyze(network=net, every=True)
    loop = attempt(m, "host", "web", 80, "127.0.0.1:8080")
    assert loop.verdict is Verdict.UNKNOWN
    assert loop.reasons == ("whether docker-proxy listens on 8080/tcp is not known",)
    # The host's own address is DNAT-ed in nat OUTPUT: that way needs no proxy.
    assert attempt(m, "host", "web", 80, "198.18.0.1:8080").verdict is Verdict.REACHABLE
    on = analyze_exposure(
        DEFAULT.containers, DEFAULT.networks, DEFAULT.firewall, net, DaemonFacts(userland_proxy=True)
    )
    assert on.cell("host", "web", 80).decisive.destination == "127.0.0.1:8080"
    assert on.cell("host", "web", 80).verdict is Verdict.REACHABLE
    assert on.notes == (
        "docker-proxy processes were not read: assumed one per published binding (userland-proxy on)",
    )
    off = analyze_exposure(
        DEFAULT.containers,
        DEFAULT.networks,
        DEFAULT.firewall,
        net,
        DaemonFacts(userland_proxy=False),
        every_attempt=True,
    )
    loop = attempt(off, "host", "web", 80, "127.0.0.1:8080")
    assert loop.verdict is Verdict.BLOCKED and loop.trace.endswith(
        "no listener of this container on 127.0.0.1:8080"
    )


def test_synthesized_proxies_follow_the_bindings():
    web = next(c for c in DEFAULT.containers if c.name == "web")
    assert synthesized_proxies([web]) == (
        ProxyListener("tcp", "0.0.0.0", 8080, "198.18.16.2", 80),
        ProxyListener("tcp", "::", 8080, "198.18.16.2", 80),
    )


def test_ip6tables_unread_leaves_only_ipv6_unknown():
    fw = firewall_with(DEFAULT, ip6tables_save=None)
    m = DEFAULT.analyze(firewall=fw, every=True)
    v6 = attempt(m, "lan:eth0", "web", 80, "[2001:2:0:1::1]:8080")
    assert v6.verdict is Verdict.UNKNOWN and v6.reasons == ("ip6tables-save was not read",)
    assert m.cell("lan:eth0", "web", 80).verdict is Verdict.REACHABLE  # IPv4 decides it


def test_legacy_tables_beside_nft_ones_are_both_followed():
    legacy = "# Generated by iptables-save v1.8.9 (legacy)\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -i eth0 -j DROP\nCOMMIT\n"
    fw = firewall_facts(
        iptables_save=DEFAULT.firewall.iptables_save,
        ip6tables_save=DEFAULT.firewall.ip6tables_save,
        nft_json=DEFAULT.firewall.nft_json,
        iptables_legacy_save=legacy,
    )
    m = DEFAULT.analyze(firewall=fw, every=True)
    published = attempt(m, "lan:eth0", "web", 80, "198.18.0.1:8080")
    assert published.verdict is Verdict.BLOCKED and published.trace.endswith("FORWARD rule 1 DROP")
    assert published.steps[-1].table == "legacy filter"


def test_bridge_family_nft_chains_make_container_traffic_unknown():
    doc = json.loads(DEFAULT.firewall.nft_json or "{}")
    doc["nftables"] += [
        {"table": {"family": "bridge", "name": "l2", "handle": 9}},
        {
            "chain": {
                "family": "bridge",
                "table": "l2",
                "name": "f",
                "handle": 1,
                "type": "filter",
                "hook": "forward",
                "prio": 0,
                "policy": "accept",
            }
        },
        {"rule": {"family": "bridge", "table": "l2", "chain": "f", "handle": 2, "expr": [{"drop": None}]}},
    ]
    m = DEFAULT.analyze(firewall=firewall_with(DEFAULT, nft_json=json.dumps(doc)))
    same = m.cell("network:appnet", "db", 5432)
    assert same.verdict is Verdict.UNKNOWN and same.decisive.reasons == ("nft bridge chain l2 f",)
    assert m.cell("host", "web", 80).verdict is Verdict.REACHABLE


def test_network_modes_none_host_and_shared_namespaces():
    extra = (
        Container(
            name="nonet", state="running", network_mode="none", ports=(PortBinding(80, published=False),)
        ),
        Container(
            name="sidecar",
            state="running",
            network_mode="container:web",
            ports=(PortBinding(9000, published=False),),
        ),
        Container(name="stopped", state="exited", ports=(PortBinding(80, published=False),)),
    )
    m = analyze_exposure(DEFAULT.containers + extra, DEFAULT.networks, DEFAULT.firewall, DEFAULT.network)
    none = m.cell("lan:eth0", "nonet", 80)
    assert none.verdict is Verdict.BLOCKED and none.note == "network mode none: the container has no network"
    sidecar = m.cell("lan:eth0", "sidecar", 9000)
    assert sidecar.verdict is Verdict.REACHABLE and sidecar.decisive.destination == "198.18.16.2:9000"
    assert m.cell("lan:eth0", "stopped", 80) is None
    assert m.notes == ("not running, not analysed: stopped",)


def test_a_loopback_destination_without_dnat_is_a_martian():
    no_nat = (
        "\n".join(line for line in (DEFAULT.firewall.iptables_save or "").split("*nat")[0].splitlines())
        + "\n"
    )
    m = DEFAULT.analyze(firewall=firewall_with(DEFAULT, iptables_save=no_nat), every=True)
    loop = attempt(m, "lan:eth0", "db", 5432, "127.0.0.1:15432")
    assert loop.verdict is Verdict.BLOCKED
    assert loop.trace == "martian destination 127.0.0.1 on eth0 (route_localnet=0)"


def test_bridge_names():
    assert bridge_name(Network(name="bridge", driver="bridge")) == "docker0"
    assert bridge_name(Network(name="x", id="0123456789abcdef", driver="bridge")) == "br-0123456789ab"
    assert (
        bridge_name(Network(name="x", driver="bridge", options=(("com.docker.network.bridge.name", "mybr"),)))
        == "mybr"
    )
    assert bridge_name(Network(name="o", driver="overlay")) is None


def test_without_ip_addr_only_the_host_zone_remains_and_it_says_so():
    m = DEFAULT.analyze(network=network_with(DEFAULT, ip_addr=None))
    assert [z.id for z in m.zones] == ["host"]
    assert "ip -j addr was not read: no zones but the host and answers are unknown" in m.notes
