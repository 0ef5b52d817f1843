"""Host network parsers on real dumps, the frozen facts records and their JSON round trip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.exposure_fixtures import FIXTURES

from auditor.exposure.facts import (
    facts_from_json,
    facts_to_json,
    firewall_facts,
    load_dumps,
    parse_ipset_save,
    read_docker_proxies,
    read_firewall,
    read_host_network,
    read_sysctls,
    write_dumps,
)
from auditor.exposure.hostnet import (
    Address,
    Listener,
    ProxyListener,
    Route,
    parse_docker_proxy,
    parse_ip_addr,
    parse_ip_route,
    parse_ss_listen,
    parse_sysctl,
)
from auditor.model.errors import InputError

DEFAULT = FIXTURES / "default"


def test_ip_addr_of_a_namespace_engine():
    interfaces = {i.name: i for i in parse_ip_addr((DEFAULT / "ip-addr.json").read_text())}
    assert interfaces["eth0"].addresses[:2] == (
        Address(4, "198.18.0.1", 24, "global", None),
        Address(6, "2001:2:0:1::1", 64, "global", None),
    )
    assert interfaces["docker0"].first(4) == Address(4, "198.18.16.1", 24, "global", "198.18.16.255")
    ports = [i for i in interfaces.values() if i.name.startswith("veth")]
    assert len(ports) == 4 and {p.master for p in ports} <= {"docker0"} | {
        n for n in interfaces if n.startswith("br-")
    }
    assert interfaces["lo"].link_type == "loopback" and interfaces["lo"].up


def test_routes():
    routes = parse_ip_route((DEFAULT / "ip-route.json").read_text())
    assert routes[0] == Route(4, 0, 0, "eth0", "198.18.0.2")
    docker0 = next(r for r in routes if r.dev == "docker0")
    assert (docker0.destination, docker0.prefsrc, docker0.type) == (
        "198.18.16.0/24",
        "198.18.16.1",
        "unicast",
    )
    v6 = parse_ip_route((DEFAULT / "ip6-route.json").read_text(), 6)
    assert [r.destination for r in v6 if r.dev == "eth0"] == ["2001:2:0:1::/64", "fe80::/64", "default"]
    blackhole = parse_ip_route('[{"type": "blackhole", "dst": "198.18.99.0/24", "flags": []}]')
    assert blackhole == (
        Route(4, int.from_bytes(bytes([198, 18, 99, 0]), "big"), 24, None, None, "blackhole"),
    )


def test_sysctl_proxies_and_listeners():
    sysctls = dict(parse_sysctl((DEFAULT / "sysctl.txt").read_text()))
    assert sysctls["net.ipv4.ip_forward"] == "1"
    assert sysctls["net.bridge.bridge-nf-call-iptables"] == "1"
    assert sysctls["net.ipv4.conf.docker0.route_localnet"] == "0"
    proxies = parse_docker_proxy((DEFAULT / "docker-proxy.txt").read_text())
    assert proxies[0] == ProxyListener("tcp", "0.0.0.0", 8080, "198.18.16.2", 80)
    assert proxies[2] == ProxyListener("tcp", "127.0.0.1", 15432, "198.18.32.2", 5432)
    assert parse_docker_proxy(
        "docker-proxy -proto=udp -host-ip=:: -host-port=53 -container-ip=198.18.16.5 -container-port=53\n"
    ) == (ProxyListener("udp", "::", 53, "198.18.16.5", 53),)
    listeners = parse_ss_listen((DEFAULT / "ss-listen.txt").read_text())
    assert sorted((x.proto, x.address, x.port, x.process) for x in listeners) == [
        ("tcp", "0.0.0.0", 8080, "docker-proxy"),
        ("tcp", "0.0.0.0", 8081, "docker-proxy"),
        ("tcp", "127.0.0.1", 15432, "docker-proxy"),
        ("tcp", "::", 8080, "docker-proxy"),
        ("tcp", "::", 8081, "docker-proxy"),
    ]
    assert all(isinstance(x.pid, int) for x in listeners)
    assert parse_ss_listen("udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\n") == (
        Listener("udp", "127.0.0.53", 53),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: parse_ip_addr("{not json"),
        lambda: parse_ip_addr('{"a": 1}'),
        lambda: parse_ip_addr("[{}]"),
        lambda: parse_ip_route('[{"dst": "nonsense"}]'),
        lambda: parse_sysctl("no equals sign"),
        lambda: parse_docker_proxy("docker-proxy -proto tcp\n"),
    ],
)
def test_malformed_dumps_are_input_errors(call):
    with pytest.raises(InputError):
        call()


def test_ipset_save():
    text = (
        "create blocked hash:ip family inet hashsize 1024 maxelem 65536\n"
        "add blocked 198.18.0.9\n"
        "create nets hash:net family inet hashsize 1024 maxelem 65536\n"
        "add nets 198.18.0.0/24\n"
        "create pairs hash:ip,port family inet\n"
        "add pairs 198.18.0.9,tcp:80\n"
    )
    assert parse_ipset_save(text) == (
        ("blocked", "ip", ((4, int.from_bytes(bytes([198, 18, 0, 9]), "big")),)),
        ("nets", "net", ((4, int.from_bytes(bytes([198, 18, 0, 0]), "big"), 0xFFFFFF00),)),
    )


def test_dump_directory_and_json_round_trip(tmp_path):
    firewall, network = load_dumps(DEFAULT)
    assert firewall.v4 is not None and firewall.v6 is not None and firewall.v6.tables == ()
    assert firewall.nft is not None and firewall.nft.foreign == ()
    assert network.sysctl_flag("net.ipv4.ip_forward") is True
    assert network.sysctl_flag("net.ipv4.conf.nosuch.route_localnet") is None
    doc = json.loads(json.dumps(facts_to_json(firewall, network)))
    fw2, net2 = facts_from_json(doc)
    assert fw2 == firewall and net2 == network
    assert fw2.v4 == firewall.v4 and net2.interfaces == network.interfaces
    write_dumps(tmp_path, firewall, network)
    assert load_dumps(tmp_path)[0].iptables_save == firewall.iptables_save
    with pytest.raises(InputError):
        facts_from_json({"version": 99})
    with pytest.raises(InputError):
        facts_from_json({"version": 1, "firewall": {"iptables_save": 3}})


def test_a_missing_dump_is_unknown_not_empty(tmp_path):
    (tmp_path / "iptables-save.txt").write_text((DEFAULT / "iptables-save.txt").read_text())
    firewall, network = load_dumps(tmp_path)
    assert firewall.v6 is None and firewall.nft is None
    assert network.interfaces is None and network.proxies is None


def test_unreadable_nft_json_is_a_problem_not_a_crash():
    facts = firewall_facts(iptables_save="", nft_json="{broken")
    assert facts.nft is None and facts.problems[0].startswith("nft -j list ruleset:")


def test_live_readers_use_only_the_commands_they_name(tmp_path):
    seen: list[list[str]] = []

    def run(cmd):
        seen.append(list(cmd))
        return {"iptables-save": (DEFAULT / "iptables-save.txt").read_text(), "ip": "[]"}.get(cmd[0])

    firewall = read_firewall(run)
    assert seen == [
        ["iptables-save"],
        ["ip6tables-save"],
        ["nft", "-j", "list", "ruleset"],
        ["ipset", "save"],
    ]
    assert firewall.v4 is not None and firewall.v6 is None and firewall.source == "live"
    seen.clear()
    proc = tmp_path / "proc"
    (proc / "sys" / "net" / "ipv4" / "conf" / "eth0").mkdir(parents=True)
    (proc / "sys" / "net" / "ipv4" / "ip_forward").write_text("1\n")
    (proc / "sys" / "net" / "ipv4" / "conf" / "eth0" / "route_localnet").write_text("0\n")
    (proc / "self" / "ns").mkdir(parents=True)
    os.symlink("/proc/self/ns/net", proc / "self" / "ns" / "net")
    network = read_host_network(run, proc)
    assert seen == [
        ["ip", "-j", "addr"],
        ["ip", "-j", "route"],
        ["ip", "-6", "-j", "route"],
        ["ss", "-Hltnu"],
    ]
    assert network.sysctls == (
        ("net.ipv4.ip_forward", "1"),
        ("net.bridge.bridge-nf-call-iptables", "0"),
        ("net.bridge.bridge-nf-call-ip6tables", "0"),
        ("net.ipv4.conf.eth0.route_localnet", "0"),
    )
    assert network.proxies == ()


def test_sysctls_and_proxies_of_this_machine_are_readable():
    text = read_sysctls(Path("/proc/sys"))
    assert "net.ipv4.ip_forward = " in text
    assert read_docker_proxies(Path("/proc")) is not None
