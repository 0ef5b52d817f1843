"""A three-engine swarm on the lab LAN: real overlay networks between engine namespaces.

What the kernel offers decides two outcomes, and both are asserted exactly: encrypted overlays
need ESP (IPsec) in the kernel, the routing mesh needs IPVS. On a kernel without ESP the
encrypted overlay fails closed (the engine drops VXLAN of that network unless it arrives over
IPsec); without IPVS published service ports are refused on every node.

The scanner on the same swarm: NET008 for the overlays whose payload crosses the LAN in clear
text (seen on the wire), and a published service's ingress port reported on every node scanned,
managers (from the service list) and the worker (from its ingress network's service table).
"""

from __future__ import annotations

import socket
import time
import uuid

import docker.types
import pytest
from support.lab import EngineConfig, Lab, Outcome, system

from .scanning import fired, scan

pytestmark = [pytest.mark.lab, pytest.mark.engine]


@pytest.fixture(scope="module")
def swarm_lab(lab_ready, test_image):
    engines = [EngineConfig("e1"), EngineConfig("e2"), EngineConfig("e3")]
    with Lab(engines, outside=["laptop"], image_source=lab_ready) as lab:
        lab.form_swarm(managers=["e1", "e2"], workers=["e3"])
        yield lab


def kernel_has_esp(lab: Lab) -> bool:
    """Whether the kernel can do IPsec ESP with AES-GCM (what encrypted overlays use)."""
    key = "0x" + "11" * 20
    add = ["ip", "xfrm", "state", "add", "src", "198.18.0.1", "dst", "198.18.0.2", "proto", "esp"]
    add += ["spi", "0x100", "reqid", "1", "mode", "transport", "aead", "rfc4106(gcm(aes))", key, "128"]
    ok = lab.run("laptop", add, check=False).returncode == 0
    lab.run("laptop", ["ip", "xfrm", "state", "flush"])
    return ok


def talk_over(lab: Lab, network: str) -> tuple[int, bytes, int]:
    """A server on e2 and a client on e3 on ``network``: exit code, what the client read, and
    the number of IPsec states in e3's namespace."""
    e2, e3 = lab.engines["e2"].client, lab.engines["e3"].client
    tag = uuid.uuid4().hex[:6]
    server = e2.containers.run(
        lab.image, f"nc -ll -p 80 -e echo over-{network}", detach=True, network=network, name=f"srv-{tag}"
    )
    try:
        server.reload()
        address = server.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        script = f"for i in 1 2 3; do nc -w 1 {address} 80 && exit 0; sleep 1; done; exit 1"
        client = e3.containers.run(
            lab.image, ["sh", "-c", script], detach=True, network=network, name=f"cli-{tag}"
        )
        try:
            code = client.wait(timeout=60)["StatusCode"]
            output = client.logs(stderr=False)
            states = lab.run("e3", ["ip", "xfrm", "state"]).stdout.count("proto esp")
        finally:
            client.remove(force=True)
    finally:
        server.remove(force=True)
    return code, output, states


def test_nodes_joined_on_their_lan_addresses(swarm_lab):
    nodes = swarm_lab.engines["e1"].client.nodes.list()
    seen = sorted(
        (n.attrs["Description"]["Hostname"], n.attrs["Spec"]["Role"], n.attrs["Status"]["Addr"])
        for n in nodes
    )
    assert seen == [
        ("e1", "manager", "198.18.0.11"),
        ("e2", "manager", "198.18.0.12"),
        ("e3", "worker", "198.18.0.13"),
    ]
    ingress = swarm_lab.engines["e1"].client.networks.get("ingress").attrs["IPAM"]["Config"][0]["Subnet"]
    assert ingress == "198.18.128.0/24"  # the first /24 of the lab's swarm pool, not 10.0.0.0/24


@pytest.fixture(scope="module")
def overlays(swarm_lab):
    """A plain and an encrypted overlay made on e1; over each, a server on e2 answers a client
    on e3 while a packet socket on the LAN records the wire; e1 scanned while both exist.
    Per kind: the network's name, ``talk_over``'s result, whether the server's answer was
    readable on the LAN, and e3's iptables right after."""
    lab = swarm_lab
    e1 = lab.engines["e1"].client
    tag = uuid.uuid4().hex[:6]
    nets = {
        "plain": e1.networks.create(f"ov-{tag}", driver="overlay", attachable=True),
        "encrypted": e1.networks.create(
            f"ovenc-{tag}", driver="overlay", attachable=True, options={"encrypted": ""}
        ),
    }
    try:
        seen = {}
        for kind, net in nets.items():
            wire = sniff(lab)
            talk = talk_over(lab, net.name)
            seen[kind] = (
                net.name,
                talk,
                f"over-{net.name}".encode() in drained(wire),
                lab.iptables_save("e3"),
            )
        yield seen, scan(lab.engines["e1"].url)
    finally:
        for net in nets.values():
            net.remove()


def test_plain_overlay_carries_traffic_between_engines_in_clear(overlays):
    name, talk, on_the_wire, _rules = overlays[0]["plain"]
    assert talk == (0, f"over-{name}\n".encode(), 0)
    assert on_the_wire  # the server's answer, readable in the VXLAN packets on the LAN


def test_encrypted_overlay_uses_ipsec_or_fails_closed(swarm_lab, overlays):
    esp = kernel_has_esp(swarm_lab)
    name, (code, output, states), on_the_wire, rules = overlays[0]["encrypted"]
    assert not on_the_wire
    if esp:
        assert (code, output) == (0, f"over-{name}\n".encode())
        assert states > 0
    else:
        assert (code, output, states) == (1, b"", 0)  # no IPsec, and no plaintext either
        lines = rules.splitlines()
        assert any("--pol none" in r and "--dport 4789" in r and r.endswith("-j DROP") for r in lines)


def test_net008_fires_for_the_plain_overlay_and_is_silent_for_the_encrypted_one(overlays):
    seen, report = overlays
    plain = seen["plain"][0]
    assert fired(report, "NET008") == [
        ("network", "ingress", "ingress overlay network ingress is not encrypted: traffic between nodes is sent in clear text."),
        ("network", plain, f"overlay network {plain} is not encrypted: traffic between nodes is sent in clear text."),
    ]  # fmt: skip


def test_routing_mesh_port_on_every_node(swarm_lab):
    """Every node's scan reports the service's ingress port (the mesh opens it on all nodes):
    e1 and e2 list the service as managers, e3 reads it from its ingress network. What the
    mesh really does here is asserted beside it: without IPVS the port is refused everywhere."""
    lab = swarm_lab
    ipvs = lab.run("e1", ["test", "-d", "/proc/sys/net/ipv4/vs"], check=False).returncode == 0
    name = f"mesh-{uuid.uuid4().hex[:6]}"
    service = lab.create_service(
        "e1",
        ["nc", "-ll", "-p", "80", "-e", "echo", "mesh"],
        name=name,
        endpoint_spec=docker.types.EndpointSpec(ports={18090: 80}),
    )
    try:
        deadline = time.monotonic() + 60
        while not any(t["Status"]["State"] == "running" for t in service.tasks()):
            assert time.monotonic() < deadline, service.tasks()
            time.sleep(0.5)
        report = scan(*(e.url for e in lab.engines.values()))
        want = Outcome.OPEN if ipvs else Outcome.REFUSED
        results = [
            lab.wait_probe("laptop", lab.address(n), 18090, want=want).outcome for n in ("e1", "e2", "e3")
        ]
        assert results == [want] * 3
        for engine in lab.engines.values():
            assert "pulling image" not in engine.plan.log_file.read_text()  # the loaded image ran
    finally:
        service.remove()
    exposed = {
        (f["resource"]["host"], f["evidence"]["binding"])
        for f in report["findings"]
        if f["rule_id"] == "PORT001" and f["resource"]["name"] == name
    }
    assert exposed == {(node, "*:18090->80/tcp") for node in ("e1", "e2", "e3")}
    assert {f["resource"]["kind"] for f in report["findings"] if f["resource"]["name"] == name} == {"service"}
    notes = {t["name"]: t["notes"] for t in report["targets"]}
    assert notes["e1"] == notes["e2"] == []
    assert notes["e3"] == [
        "swarm worker: services are listed only on a manager; the ingress ports of 1 service(s) were read "
        "from this node's ingress network (a worker is not told their protocol: read as TCP)"
    ]


def sniff(lab: Lab) -> socket.socket:
    """A packet socket in the LAN's namespace (every frame on every port of the lab bridge),
    buffered until ``drained``; created on a thread in that namespace, read from anywhere."""

    def open_socket() -> socket.socket:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.setblocking(False)
        return sock

    return system.call_in_netns(lab.netns("lan"), open_socket)


def drained(sock: socket.socket) -> bytes:
    frames = []
    while True:
        try:
            frames.append(sock.recv(65536))
        except BlockingIOError:
            sock.close()
            return b"".join(frames)
