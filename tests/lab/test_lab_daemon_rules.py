"""Every daemon-setting rule seen firing and seen silent on real lab engines, through the real
CLI, each beside the packets that show what the setting really does.

Engines: ``settings_lab`` (e1 defaults + macvlan parent + plain TCP API on its LAN address; e2
icc and userland proxy off, ``ip`` 127.0.0.1, plain TCP API on 0.0.0.0; e3 IPv6 + ip6tables,
TLS API) and this module's ``other_lab`` (noipt: ``iptables: false``; v6: IPv6 without
ip6tables; ufw: defaults, with UFW's chains and policy written into its namespace).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid

import pytest
from auditor.rules.port008_loopback_reachable import RULE as PORT008
from support.lab import EngineConfig, Lab, Outcome, Target, system

from auditor.collectors.daemon_process import processes_named

from .scanning import fired, scan

pytestmark = [pytest.mark.lab, pytest.mark.engine]

WHO = "netstat -tn | grep ':80 .*ESTABLISHED'"  # a server answering with the connection it sees


@contextlib.contextmanager
def running(client, image: str, command, **kwargs):
    container = client.containers.run(
        image, command, detach=True, name=f"audlab-{uuid.uuid4().hex[:8]}", **kwargs
    )
    try:
        container.reload()
        yield container
    finally:
        container.remove(force=True)


def serving(client, image: str, text: str, port: int = 80, **kwargs):
    return running(client, image, f"nc -ll -p {port} -e echo {text}", **kwargs)


def ipv4(container) -> str:
    return container.attrs["NetworkSettings"]["IPAddress"]


def ipv6(container) -> str:
    return container.attrs["NetworkSettings"]["GlobalIPv6Address"]


@contextlib.contextmanager
def route(lab: Lab, host: str, cidr: str, via: str):
    lab.add_route(host, cidr, via)
    try:
        yield
    finally:
        lab.run(host, ["ip", "route", "del", cidr])


def on(report: dict, host: str, rule: str) -> list[tuple[str, str, str]]:
    """(kind, name, message) of ``rule``'s findings on one host."""
    return fired({"findings": [f for f in report["findings"] if f["resource"]["host"] == host]}, rule)


@pytest.fixture(scope="module")
def other_lab(lab_ready, test_image):
    engines = [
        EngineConfig("noipt", daemon={"iptables": False}),
        EngineConfig("v6", daemon={"ipv6": True}),  # ip6tables: 20.10's default, off
        EngineConfig("ufw"),
    ]
    with Lab(engines, outside=["laptop", "attacker"], image_source=lab_ready) as lab:
        yield lab


@pytest.fixture(scope="module")
def settings(settings_lab):
    """The settings lab with published and unpublished servers on e1 and e2, scanned once."""
    lab = settings_lab
    e1, e2 = lab.engines["e1"].client, lab.engines["e2"].client
    with contextlib.ExitStack() as stack:
        servers = {
            "e1.pub": stack.enter_context(running(e1, lab.image, ["nc", "-ll", "-p", "80", "-e", "sh", "-c", WHO], ports={"80/tcp": 18110})),
            "e1.lo": stack.enter_context(serving(e1, lab.image, "lo-e1", ports={"80/tcp": ("127.0.0.1", 18111)})),
            "e1.peer": stack.enter_context(serving(e1, lab.image, "peer-e1")),
            "e2.pub": stack.enter_context(serving(e2, lab.image, "pub-e2", ports={"80/tcp": 18110})),
            "e2.peer": stack.enter_context(serving(e2, lab.image, "peer-e2")),
        }  # fmt: skip
        for key, server in servers.items():  # up, seen from inside its engine
            assert lab.wait_probe(key[:2], ipv4(server), 80).outcome is Outcome.OPEN, key
        report = scan(*(lab.engines[n].url for n in ("e1", "e2", "e3")))
        yield lab, servers, report


@pytest.fixture(scope="module")
def others(other_lab):
    lab = other_lab
    with contextlib.ExitStack() as stack:
        servers = {
            "noipt.hidden": stack.enter_context(serving(lab.engines["noipt"].client, lab.image, "hidden-noipt", port=81)),
            "v6.hidden": stack.enter_context(serving(lab.engines["v6"].client, lab.image, "hidden-v6", port=81)),
        }  # fmt: skip
        for key, server in servers.items():
            assert lab.wait_probe(key.split(".")[0], ipv4(server), 81).outcome is Outcome.OPEN, key
        report = scan(*(lab.engines[n].url for n in ("noipt", "v6")))
        yield lab, servers, report


# --- HOST001: the API on TCP without TLS ----------------------------------------------------


def test_host001_fires_for_a_plain_tcp_api_the_lan_reaches_and_is_silent_with_tls(settings):
    lab, _servers, report = settings
    e1, e2, e3 = (lab.engines[n] for n in ("e1", "e2", "e3"))
    assert on(report, "e1", "HOST001") == [
        ("host", "e1", f"The Docker API listens on {e1.tcp_url} without TLS client verification: anyone who can reach it gets root on the host.")
    ]  # fmt: skip
    assert on(report, "e2", "HOST001") == [
        ("host", "e2", "The Docker API listens on tcp://0.0.0.0:2375 without TLS client verification: anyone who can reach it gets root on the host.")
    ]  # fmt: skip
    assert on(report, "e3", "HOST001") == []
    # what the laptop can do with each: drive e1 and e2 without any credential, not e3
    for engine, url in ((e1, e1.tcp_url), (e2, f"tcp://{e2.lan_ip}:2375")):
        info = lab.run("laptop", ["docker", "-H", url, "info", "--format", "{{.Name}}"])
        assert info.stdout == f"{engine.name}\n"
    refused = lab.run("laptop", ["docker", "-H", e3.tcp_url, "info"], check=False)
    assert (refused.returncode, "Client sent an HTTP request to an HTTPS server" in refused.stderr) == (
        1,
        True,
    )


# --- HOST004: the userland proxy ------------------------------------------------------------


def docker_proxies(lab: Lab, engine: str) -> list[tuple[str, str]]:
    """(host address, host port) of the docker-proxy processes in an engine's namespace."""
    inode = os.stat(system.netns_path(lab.engines[engine].netns)).st_ino
    found = []
    for pid, netns in processes_named("docker-proxy"):
        argv = system.cmdline(pid)
        if netns == inode and "-host-ip" in argv:
            found.append((argv[argv.index("-host-ip") + 1], argv[argv.index("-host-port") + 1]))
    return sorted(found)


def test_host004_fires_with_the_userland_proxy_and_is_silent_without(settings):
    lab, servers, report = settings
    assert [name for _kind, name, _msg in on(report, "e1", "HOST004")] == ["e1"]
    assert on(report, "e2", "HOST004") == []
    # one per published address, IPv6 too although e1 has no IPv6 network
    assert docker_proxies(lab, "e1") == [("0.0.0.0", "18110"), ("127.0.0.1", "18111"), ("::", "18110")]
    assert docker_proxies(lab, "e2") == []
    # Who the container sees: a LAN client through NAT as itself, a client on the host itself
    # through docker-proxy as the bridge's gateway address.
    gateway = lab.engines["e1"].client.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]
    from_lan = lab.wait_probe("laptop", lab.address("e1"), 18110, banner=True).banner.decode()
    from_host = lab.wait_probe("e1", "127.0.0.1", 18110, banner=True).banner.decode()
    assert f"::ffff:{lab.address('laptop')}:" in from_lan.split()[4]
    assert f"::ffff:{gateway}:" in from_host.split()[4]


# --- HOST005: iptables management off -------------------------------------------------------


def test_host005_fires_without_iptables_and_is_silent_with(settings, others):
    lab, _servers, report = others
    assert [name for _kind, name, _msg in on(report, "noipt", "HOST005")] == ["noipt"]
    assert on(report, "v6", "HOST005") == []
    assert on(settings[2], "e1", "HOST005") == []
    assert lab.iptables_save("noipt") == ""  # nothing at all filters or isolates
    hidden = ipv4(others[1]["noipt.hidden"])
    with route(lab, "laptop", lab.route_to_network("laptop", "noipt"), "noipt"):
        reached = lab.probe("laptop", hidden, 81, banner=True)
    assert (reached.outcome, reached.banner) == (Outcome.OPEN, b"hidden-noipt\n")  # unpublished, yet open
    slab, servers, _report = settings
    peer = ipv4(servers["e1.peer"])
    with route(slab, "laptop", slab.route_to_network("laptop", "e1"), "e1"):
        assert slab.probe("laptop", peer, 80).outcome is Outcome.FILTERED  # Docker's FORWARD rules


# --- HOST006: the default bind address ------------------------------------------------------


def test_host006_fires_with_ip_unset_and_is_silent_with_loopback(settings):
    lab, _servers, report = settings
    assert on(report, "e1", "HOST006") == [
        ("host", "e1", "The daemon's default bind address is 0.0.0.0: ports published without a host address listen on all interfaces.")
    ]  # fmt: skip
    assert on(report, "e2", "HOST006") == []
    # the same `-p 18110:80` on both: open to the LAN on e1, refused on e2 (bound to 127.0.0.1)
    assert lab.probe("laptop", lab.address("e1"), 18110).outcome is Outcome.OPEN
    assert lab.probe("laptop", lab.address("e2"), 18110).outcome is Outcome.REFUSED
    assert lab.wait_probe("e2", "127.0.0.1", 18110, banner=True).banner == b"pub-e2\n"


# --- HOST007: IPv6 without ip6tables --------------------------------------------------------


def test_host007_fires_for_ipv6_without_ip6tables_and_is_silent_with_it(settings, others):
    lab, servers, report = others
    assert on(report, "v6", "HOST007") == [
        ("host", "v6", "IPv6 is enabled on the default bridge (daemon ipv6) but ip6tables is off: IPv6 traffic to containers is not filtered.")
    ]  # fmt: skip
    assert on(report, "noipt", "HOST007") == []
    assert on(settings[2], "e3", "HOST007") == on(settings[2], "e1", "HOST007") == []
    hidden = servers["v6.hidden"]
    v6 = lab.engines["v6"]
    with (
        route(lab, "laptop", "2001:2:0:2::/64", v6.lan_ip6),
        route(lab, "laptop", lab.route_to_network("laptop", "v6"), "v6"),
    ):
        over_v6 = lab.probe("laptop", ipv6(hidden), 81, banner=True)
        over_v4 = lab.probe("laptop", ipv4(hidden), 81)
    assert (over_v6.outcome, over_v6.banner, over_v4.outcome) == (
        Outcome.OPEN,
        b"hidden-v6\n",
        Outcome.FILTERED,
    )
    slab = settings[0]
    e3 = slab.engines["e3"]
    with serving(e3.client, slab.image, "hidden-e3", port=81) as guarded:
        assert slab.wait_probe("e3", ipv6(guarded), 81).outcome is Outcome.OPEN
        with route(slab, "laptop", "2001:2:0:3::/64", e3.lan_ip6):
            assert slab.probe("laptop", ipv6(guarded), 81).outcome is Outcome.FILTERED  # ip6tables FORWARD


# --- NET005: inter-container communication on the default bridge ----------------------------


def test_net005_fires_with_icc_on_and_is_silent_with_icc_off(settings):
    lab, servers, report = settings
    assert on(report, "e1", "NET005") == [
        ("network", "bridge", "Inter-container communication (icc) is enabled on the default bridge: containers on it can reach each other on every port.")
    ]  # fmt: skip
    assert on(report, "e2", "NET005") == []
    seen = {}
    for name in ("e1", "e2"):
        script = f"nc -w 2 {ipv4(servers[f'{name}.peer'])} 80; echo exit=$?"
        client = lab.engines[name].client.containers.run(lab.image, ["sh", "-c", script], detach=True)
        try:
            client.wait(timeout=30)
            seen[name] = (client.logs(stderr=False), client.logs(stdout=False))
        finally:
            client.remove(force=True)
    assert seen == {"e1": (b"peer-e1\nexit=0\n", b""), "e2": (b"exit=1\n", b"nc: timed out\n")}  # dropped


# --- PORT008: ports published on loopback, reached from the LAN -----------------------------


def test_port008_fires_on_this_engine_and_its_remedy_really_closes_the_port(settings):
    """20.10 is older than 28.0.0, so every loopback-published port is flagged; a neighbour
    that routes 127.0.0.1 via e1 reaches it. The DOCKER-USER rule of the remediation stops it
    (silence needs an engine of 28.0.0 or later, which this lab does not have). Its remediation's
    command is taken from the rule itself."""
    lab, servers, report = settings
    name = servers["e1.lo"].name
    [(_kind, resource, message)] = on(report, "e1", "PORT008")
    assert (resource, message) == (
        name,
        f"{name} publishes 127.0.0.1:18111->80/tcp to loopback, but it is reachable from the local network: "
        f"engine {lab.engines['e1'].client.version()['Version']} is older than 28.0.0 (moby#45610).",
    )
    e2_pub = servers["e2.pub"].name  # `-p 18110:80` binds 127.0.0.1 there (daemon `ip`): flagged too
    assert [(resource, message.split(":")[0]) for _k, resource, message in on(report, "e2", "PORT008")] == [
        (e2_pub, f"{e2_pub} publishes 127.0.0.1")
    ]
    [command] = re.findall(r"`iptables -I (DOCKER-USER [^`]+)`", PORT008.meta.remediation)
    remedy = command.split()
    with lab.loopback_via("attacker", "e1"):
        before = lab.probe("attacker", "127.0.0.1", 18111, banner=True)
        lab.iptables("e1", "-I", *remedy)
        try:
            after = lab.probe("attacker", "127.0.0.1", 18111)
        finally:
            lab.iptables("e1", "-D", *remedy)
    assert (before.outcome, before.banner, after.outcome) == (Outcome.OPEN, b"lo-e1\n", Outcome.FILTERED)
    assert lab.wait_probe("e1", "127.0.0.1", 18111, banner=True).banner == b"lo-e1\n"  # still served locally


# --- NET007: a container straight on the LAN (macvlan) --------------------------------------


def test_net007_fires_for_a_macvlan_container_the_lan_reaches_and_is_silent_without(settings_lab):
    lab = settings_lab
    e1 = lab.engines["e1"]
    net = lab.create_macvlan("e1", f"audlab-mv-{uuid.uuid4().hex[:6]}")
    try:
        with serving(e1.client, lab.image, "on-the-lan", network=net.name) as web:
            address = web.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"]
            reached = lab.wait_probe("laptop", address, 80, banner=True)
            with_container = scan(e1.url)
        without = scan(e1.url)  # the network is still there, nobody on it
        assert net.name in [n.name for n in e1.client.networks.list()]
    finally:
        net.remove()
    assert (reached.outcome, reached.banner) == (Outcome.OPEN, b"on-the-lan\n")
    assert fired(with_container, "NET007") == [
        ("container", web.name, f"{web.name} is attached to macvlan network {net.name} on parent interface mv0: it sits directly on the LAN.")
    ]  # fmt: skip
    assert fired(without, "NET007") == []


# --- HOST003: UFW active, published ports bypass it -----------------------------------------

UFW_SKELETON = (  # the chains and policy `ufw enable` sets up (its rules reduced to these)
    ("-N", "ufw-before-input"),
    ("-N", "ufw-user-input"),
    ("-A", "INPUT", "-i", "lo", "-j", "ACCEPT"),
    ("-A", "INPUT", "-j", "ufw-before-input"),
    ("-A", "ufw-before-input", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"),
    ("-A", "ufw-before-input", "-j", "ufw-user-input"),
    ("-P", "INPUT", "DROP"),
)


def test_host003_fires_when_ufw_is_bypassed_and_is_silent_once_docker_user_filters(other_lab):
    lab = other_lab
    ufw = lab.engines["ufw"]
    for rule in UFW_SKELETON:
        lab.iptables("ufw", *rule)
    try:
        bypassed, filtered, web = _ufw_scans(lab, ufw)
    finally:
        lab.iptables("ufw", "-P", "INPUT", "ACCEPT")
    assert fired(bypassed, "HOST003") == [
        ("host", "ufw", f"UFW is active but DOCKER-USER has no filtering rules: 1 published port(s) bypass the firewall ({web} 0.0.0.0:18121->80/tcp).")
    ]  # fmt: skip
    assert fired(filtered, "HOST003") == []


def _ufw_scans(lab: Lab, ufw):
    """Scans of the UFW engine before and after a DOCKER-USER rule, with the packets seen."""
    lab.spawn("ufw", ["busybox", "nc", "-ll", "-p", "18120", "-e", "echo", "host-service"])
    with serving(ufw.client, lab.image, "behind-ufw", ports={"80/tcp": 18121}) as web:
        assert lab.wait_probe("ufw", "127.0.0.1", 18120).outcome is Outcome.OPEN  # the host service is up
        bypassed = scan(ufw.url)
        seen = lab.probe_many("laptop", [Target(ufw.lan_ip, 18120), Target(ufw.lan_ip, 18121)], banner=True)
        # UFW's INPUT policy drops the host's own service; the published port is DNAT-ed past it
        assert [(r.outcome, r.banner) for r in seen] == [
            (Outcome.FILTERED, None),
            (Outcome.OPEN, b"behind-ufw\n"),
        ]
        lab.iptables("ufw", "-I", "DOCKER-USER", "-s", lab.address("attacker"), "-j", "DROP")
        filtered = scan(ufw.url)
        assert lab.probe("attacker", ufw.lan_ip, 18121).outcome is Outcome.FILTERED
        assert lab.probe("laptop", ufw.lan_ip, 18121).outcome is Outcome.OPEN
    return bypassed, filtered, web.name
