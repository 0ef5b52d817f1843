"""The lab's engines: each runs with its own daemon.json, and real packets show what is reachable.

One lab for the package (``settings_lab``): e1 with defaults, a macvlan parent and a plain TCP
API on its LAN address; e2 with icc off, the userland proxy off, ``ip`` 127.0.0.1 and a TCP API
on 0.0.0.0; e3 with IPv6 and ip6tables, a TLS API, and forwarding already on before dockerd
started. Outside hosts: laptop and attacker.
"""

from __future__ import annotations

import contextlib
import sys
import uuid

import docker
import pytest
from support.lab import LabError, Outcome, Target, system
from support.lab import machine as machine_state

pytestmark = [pytest.mark.lab, pytest.mark.engine]

MACHINE_SOCKET = "/var/run/docker.sock"


@contextlib.contextmanager
def serving(client: docker.DockerClient, image: str, text: str, port: int = 80, **kwargs):
    """A container that greets every TCP client on ``port`` with ``text``; removed afterwards."""
    container = client.containers.run(
        image,
        f"nc -ll -p {port} -e echo {text}",
        detach=True,
        name=f"audlab-{uuid.uuid4().hex[:8]}",
        **kwargs,
    )
    try:
        container.reload()
        yield container
    finally:
        container.remove(force=True)


def bridge_ip(container) -> str:
    return container.attrs["NetworkSettings"]["IPAddress"]


def test_three_engines_two_hosts_each_with_its_own_identity(settings_lab, docker_client):
    lab = settings_lab
    assert sorted(lab.engines) == ["e1", "e2", "e3"]
    assert sorted(lab.hosts) == ["attacker", "laptop"]
    assert [lab.address(n) for n in ("e1", "e2", "e3", "laptop", "attacker")] == [
        "198.18.0.11",
        "198.18.0.12",
        "198.18.0.13",
        "198.18.0.101",
        "198.18.0.102",
    ]
    infos = {name: e.client.info() for name, e in lab.engines.items()}
    assert {name: info["Name"] for name, info in infos.items()} == {"e1": "e1", "e2": "e2", "e3": "e3"}
    for name, info in infos.items():
        assert f"io.auditor.lab.engine={name}" in info["Labels"]
        assert info["DockerRootDir"] == str(lab.engines[name].data_root)
    ids = {info["ID"] for info in infos.values()} | {docker_client.info()["ID"]}
    assert len(ids) == 4  # not the machine's /etc/docker/key.json identity
    assert [e.client.images.get(lab.image).tags for e in lab.engines.values()] == [[lab.image]] * 3


def test_default_bridge_shows_each_engines_settings(settings_lab):
    bridges = {name: e.client.networks.get("bridge").attrs for name, e in settings_lab.engines.items()}
    opts = {name: b["Options"] for name, b in bridges.items()}
    assert {n: o["com.docker.network.bridge.enable_icc"] for n, o in opts.items()} == {
        "e1": "true",
        "e2": "false",
        "e3": "true",
    }
    assert {n: o["com.docker.network.bridge.host_binding_ipv4"] for n, o in opts.items()} == {
        "e1": "0.0.0.0",
        "e2": "127.0.0.1",
        "e3": "0.0.0.0",
    }
    assert {n: b["EnableIPv6"] for n, b in bridges.items()} == {"e1": False, "e2": False, "e3": True}
    assert [c["Subnet"] for c in bridges["e3"]["IPAM"]["Config"]] == ["198.19.48.0/24", "2001:2:0:3::/64"]
    assert [c["Subnet"] for c in bridges["e1"]["IPAM"]["Config"]] == ["198.19.16.0/24"]


def test_engine_firewalls_follow_their_settings(settings_lab):
    lab = settings_lab
    e1, e2, e3 = (lab.iptables_save(n).splitlines() for n in ("e1", "e2", "e3"))
    assert any(line.startswith(":FORWARD DROP") for line in e1)  # dockerd turned forwarding on itself
    assert any(line.startswith(":FORWARD ACCEPT") for line in e3)  # it was already on
    assert "-A FORWARD -i docker0 -o docker0 -j ACCEPT" in e1
    assert "-A FORWARD -i docker0 -o docker0 -j DROP" in e2  # icc off
    assert "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER" in e1
    assert "-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER" in e2  # proxy off: loopback too
    assert "-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE" in e2
    assert "-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE" not in e1
    assert "-A FORWARD -i docker0 -o docker0 -j ACCEPT" in lab.iptables_save("e3", ipv6=True).splitlines()
    assert lab.iptables_save("e1", ipv6=True).strip() == ""  # ip6tables off: nothing at all
    routing = {
        n: (
            lab.sysctl(n, "net.ipv4.conf.docker0.route_localnet"),
            lab.sysctl(n, "net.ipv4.conf.all.route_localnet"),
        )
        for n in ("e1", "e2")
    }
    assert routing == {"e1": ("0", "0"), "e2": ("1", "0")}  # proxy off: docker0 only


def test_published_port_reached_from_outside_through_the_engines_own_dnat(settings_lab, docker_client):
    lab = settings_lab
    before = machine_state.capture(docker_client)
    e1 = lab.engines["e1"]
    with serving(e1.client, lab.image, "hello-e1", ports={"80/tcp": 18080}) as web:
        opened = lab.wait_probe("laptop", e1.lan_ip, 18080, banner=True)
        assert (opened.outcome, opened.banner) == (Outcome.OPEN, b"hello-e1\n")
        closed = lab.probe("laptop", e1.lan_ip, 18081)
        assert (closed.outcome, closed.detail) == (Outcome.REFUSED, "ECONNREFUSED")
        nat = lab.iptables_save("e1")
        assert (
            f"-A DOCKER ! -i docker0 -p tcp -m tcp --dport 18080 -j DNAT --to-destination {bridge_ip(web)}:80"
            in nat
        )
        after = machine_state.capture(docker_client)
    assert machine_state.differences(before, after, fields=("link", "iptables")) == []
    assert not any("18080" in line for line in after.iptables)


def test_docker_user_rule_in_the_engine_namespace_filters_one_source(settings_lab):
    lab = settings_lab
    e1 = lab.engines["e1"]
    rule = ["DOCKER-USER", "-s", lab.address("attacker"), "-p", "tcp", "-m", "conntrack"]
    rule += ["--ctorigdstport", "18082", "-j", "DROP"]
    with serving(e1.client, lab.image, "guarded", ports={"80/tcp": 18082}):
        assert lab.wait_probe("laptop", e1.lan_ip, 18082).outcome is Outcome.OPEN
        assert lab.probe("attacker", e1.lan_ip, 18082).outcome is Outcome.OPEN
        lab.iptables("e1", "-I", *rule)
        try:
            dropped = lab.probe("attacker", e1.lan_ip, 18082)
            assert (dropped.outcome, dropped.detail) == (Outcome.FILTERED, "timeout")
            assert lab.probe("laptop", e1.lan_ip, 18082).outcome is Outcome.OPEN
        finally:
            lab.iptables("e1", "-D", *rule)
        assert lab.probe("attacker", e1.lan_ip, 18082).outcome is Outcome.OPEN


def test_default_bind_address_loopback_keeps_the_port_off_the_lan(settings_lab):
    lab = settings_lab
    e2 = lab.engines["e2"]
    with serving(e2.client, lab.image, "local-only", ports={"80/tcp": 18083}) as web:
        assert web.attrs["NetworkSettings"]["Ports"]["80/tcp"] == [
            {"HostIp": "127.0.0.1", "HostPort": "18083"}
        ]
        inside = lab.wait_probe("e2", "127.0.0.1", 18083, banner=True)
        assert inside.banner == b"local-only\n"  # DNAT in OUTPUT (no proxy), route_localnet on docker0
        assert lab.probe("laptop", e2.lan_ip, 18083).outcome is Outcome.REFUSED


def test_direct_routing_to_a_bridge_subnet(settings_lab):
    """A LAN host with a route to a bridge subnet via the engine reaches container ports.

    Where dockerd enabled forwarding itself (FORWARD policy DROP) only published containers'
    ports are reachable, at their container port; where forwarding was already on (policy
    ACCEPT), unpublished ports are too.
    """
    lab = settings_lab
    seen = {}
    for name in ("e1", "e3"):
        client = lab.engines[name].client
        with (
            serving(client, lab.image, f"pub-{name}", ports={"80/tcp": 18084}) as pub,
            serving(client, lab.image, f"unpub-{name}", port=81) as unpub,
        ):
            assert lab.probe("attacker", bridge_ip(pub), 80).outcome is Outcome.UNREACHABLE  # no route yet
            lab.route_to_network("attacker", name)
            for server, port in ((pub, 80), (unpub, 81)):  # both are up, seen from the engine
                assert lab.wait_probe(name, bridge_ip(server), port).outcome is Outcome.OPEN
            results = lab.probe_many(
                "attacker", [Target(bridge_ip(pub), 80), Target(bridge_ip(unpub), 81)], banner=True
            )
            seen[name] = [(r.outcome, r.banner) for r in results]
    assert seen == {
        "e1": [(Outcome.OPEN, b"pub-e1\n"), (Outcome.FILTERED, None)],
        "e3": [(Outcome.OPEN, b"pub-e3\n"), (Outcome.OPEN, b"unpub-e3\n")],
    }


def test_tcp_api_with_and_without_tls_from_the_lan(settings_lab):
    lab = settings_lab
    e1, e2, e3 = (lab.engines[n] for n in ("e1", "e2", "e3"))
    plain = lab.run("laptop", ["docker", "-H", e1.tcp_url, "info", "--format", "{{.Name}}"])
    assert plain.stdout == "e1\n"
    wildcard = lab.run("laptop", ["docker", "-H", f"tcp://{e2.lan_ip}:2375", "info", "--format", "{{.Name}}"])
    assert wildcard.stdout == "e2\n"
    with_certs = lab.run("laptop", ["docker", "info", "--format", "{{.Name}}"], env=e3.tls_env())
    assert with_certs.stdout == "e3\n"
    no_certs = lab.run("laptop", ["docker", "-H", e3.tcp_url, "info"], check=False)
    assert no_certs.returncode != 0
    assert "Client sent an HTTP request to an HTTPS server" in no_certs.stderr
    warnings = " ".join(e1.client.info()["Warnings"] or [])
    assert "API is accessible on http://198.18.0.11:2375 without encryption" in warnings
    assert not any("without encryption" in w for w in e3.client.info()["Warnings"] or [])
    assert lab.probe("laptop", e3.lan_ip, 2375).outcome is Outcome.REFUSED


def test_ipv6_published_port_through_ip6tables_dnat(settings_lab):
    lab = settings_lab
    e3 = lab.engines["e3"]
    with serving(e3.client, lab.image, "hello-v6", ports={"80/tcp": 18085}):
        result = lab.wait_probe("laptop", e3.lan_ip6, 18085, banner=True)
        assert (result.outcome, result.banner) == (Outcome.OPEN, b"hello-v6\n")
        assert "--dport 18085 -j DNAT" in lab.iptables_save("e3", ipv6=True)


def test_udp_probe_outcomes(settings_lab):
    """UDP: a reply is ``open``; ICMP port-unreachable is ``refused`` (conclusive, even through
    DNAT into a container); a DROP is only ``no-reply``."""
    lab = settings_lab
    e1 = lab.engines["e1"]
    echo = "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5353))\n"
    echo += "while True:\n d, a = s.recvfrom(2048); s.sendto(b'echo:' + d, a)\n"
    lab.spawn("attacker", [sys.executable, "-c", echo])
    replied = lab.wait_probe("laptop", lab.address("attacker"), 5353, "udp")
    assert (replied.outcome, replied.banner) == (Outcome.OPEN, b"echo:audlab-probe\n")
    with serving(e1.client, lab.image, "tcp-only", ports={"53/udp": 15353}):
        refused = lab.probe("laptop", e1.lan_ip, 15353, "udp")
        assert (refused.outcome, refused.detail) == (Outcome.REFUSED, "ECONNREFUSED")
        lab.iptables("e1", "-I", "DOCKER-USER", "-p", "udp", "-j", "DROP")
        try:
            assert lab.probe("laptop", e1.lan_ip, 15353, "udp").outcome is Outcome.NO_REPLY
        finally:
            lab.iptables("e1", "-D", "DOCKER-USER", "-p", "udp", "-j", "DROP")


def test_macvlan_container_is_on_the_lan(settings_lab):
    lab = settings_lab
    e1 = lab.engines["e1"]
    net = lab.create_macvlan("e1", f"audlab-mv-{uuid.uuid4().hex[:6]}")
    try:
        assert net.attrs["Options"] == {"parent": "mv0"}
        with serving(e1.client, lab.image, "on-the-lan", network=net.name) as web:
            address = web.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"]
            assert address == "198.18.0.128"  # the first of e1's slice, 198.18.0.128/28
            result = lab.wait_probe("laptop", address, 80, banner=True)
            assert (result.outcome, result.banner) == (Outcome.OPEN, b"on-the-lan\n")
            # The parent is a separate veth, so the engine itself reaches it over eth0.
            assert lab.probe("e1", address, 80).outcome is Outcome.OPEN
    finally:
        net.remove()


def test_lab_refuses_anything_outside_its_namespaces_and_addresses(settings_lab):
    with pytest.raises(LabError, match="no lab engine or host called 'nosuchhost'"):
        settings_lab.run("nosuchhost", ["true"])
    with pytest.raises(LabError, match="routes stay inside the lab's address space"):
        settings_lab.add_route("laptop", "10.0.0.0/8", "e1")
    with pytest.raises(LabError, match="not the lab's"):
        system.run_in("default", ["iptables-save"])


def test_loopback_published_port_from_an_l2_neighbour(settings_lab):
    """A port published on 127.0.0.1 answers a LAN neighbour that sends to 127.0.0.1 via the
    engine's MAC: DNAT in PREROUTING rewrites the address before the martian check. Docker 28
    added raw-table drops against this; this 20.10 has none, proxy on or off."""
    lab = settings_lab
    seen, expected = {}, {}
    for name in ("e1", "e2"):
        client = lab.engines[name].client
        fixed = int(client.version()["Version"].split(".")[0]) >= 28
        expected[name] = (Outcome.FILTERED, None) if fixed else (Outcome.OPEN, f"lo-{name}\n".encode())
        with serving(client, lab.image, f"lo-{name}", ports={"80/tcp": ("127.0.0.1", 18086)}):
            inside = lab.wait_probe(name, "127.0.0.1", 18086, banner=True)
            assert inside.banner == f"lo-{name}\n".encode()  # it is up
            assert lab.probe("attacker", lab.engines[name].lan_ip, 18086).outcome is Outcome.REFUSED
            with lab.loopback_via("attacker", name):
                result = lab.probe("attacker", "127.0.0.1", 18086, banner=True)
            seen[name] = (result.outcome, result.banner)
    assert seen == expected  # here (20.10): both open
