"""The scan's exposure findings beside real packets, on lab engines, through the real CLI.

(a) An unpublished port on a bridge that a LAN host reaches by routing the bridge's subnet via
the engine is reported by NET012 with the trace of the netfilter rules that let it in; where
Docker's FORWARD policy drops such packets the rule is silent and the packets are dropped.
(b) A DOCKER-USER rule that blocks only one of two published ports makes HOST003 name exactly
the port that stays open, and the packets agree; the blocked one's container address, which
Docker's own DOCKER chain accepts routed packets for, is said to stay reachable by routing,
and a routed packet shows it.

Engines: ``fwd`` (IPv4 forwarding on before dockerd: FORWARD's policy stays ACCEPT) and
``plain`` (dockerd turns forwarding on itself and sets the policy to DROP).
"""

from __future__ import annotations

import contextlib
import json
import uuid

import pytest
from support.lab import EngineConfig, Lab, Outcome

from .scanning import auditor, fired, scan, snapshot

pytestmark = [pytest.mark.lab, pytest.mark.engine]


@pytest.fixture(scope="module")
def exposure_lab(lab_ready, test_image):
    engines = [EngineConfig("fwd", forwarding=True), EngineConfig("plain")]
    with Lab(engines, outside=["laptop"], image_source=lab_ready) as lab:
        yield lab


def scan_file(path: str) -> dict:
    proc = auditor("scan", path, "-f", "json", "--fail-on", "none")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@contextlib.contextmanager
def unpublished_server(lab: Lab, engine: str, port: int, text: str):
    """A container listening on ``port``, which it exposes but does not publish."""
    api = lab.engines[engine].client.api
    created = api.create_container(lab.image, f"nc -ll -p {port} -e echo {text}", ports=[port],
                                   name=f"audlab-{uuid.uuid4().hex[:8]}")  # fmt: skip
    try:
        api.start(created["Id"])
        yield api.inspect_container(created["Id"])
    finally:
        api.remove_container(created["Id"], force=True)


@contextlib.contextmanager
def route(lab: Lab, host: str, engine: str):
    cidr = lab.route_to_network(host, engine)
    try:
        yield
    finally:
        lab.run(host, ["ip", "route", "del", cidr])


def exposure_cells(report: dict, container: str, port: int) -> dict[str, dict]:
    [target] = report["exposure"]["targets"]
    [entry] = [p for p in target["ports"] if p["container"] == container and p["port"] == port]
    return {c["zone"]: c for c in entry["cells"]}


def lan_zone(report: dict) -> str:
    [target] = report["exposure"]["targets"]
    [zone] = [z["id"] for z in target["zones"] if z["kind"] == "lan"]
    return zone


def test_net012_reports_an_unpublished_port_reached_by_direct_routing_with_its_trace(exposure_lab, tmp_path):
    lab = exposure_lab
    with unpublished_server(lab, "fwd", 81, "hidden-fwd") as hidden, route(lab, "laptop", "fwd"):
        name, address = hidden["Name"].lstrip("/"), hidden["NetworkSettings"]["IPAddress"]
        reached = lab.wait_probe("laptop", address, 81, banner=True)
        report = scan(lab.engines["fwd"].url)
        saved = snapshot(lab.engines["fwd"].url, str(tmp_path / "fwd.json"))
    # the snapshot file carries the namespace's dumps: scanned later, offline, it answers the same
    assert sorted(saved["host_dumps"]) == [
        "docker_proxy", "ip6_route", "ip6tables_save", "ip_addr", "ip_route", "iptables_save", "nft_json",
        "source", "ss_listen", "sysctl",
    ]  # fmt: skip
    offline = scan_file(str(tmp_path / "fwd.json"))
    assert offline["exposure"] == report["exposure"]
    assert fired(offline, "NET012") == fired(report, "NET012")
    assert (reached.outcome, reached.banner) == (Outcome.OPEN, b"hidden-fwd\n")  # unpublished, yet open
    zone = lan_zone(report)
    cell = exposure_cells(report, name, 81)[zone]
    assert (cell["verdict"], cell["via"], cell["destination"]) == ("reachable", "direct", f"{address}:81")
    assert cell["trace"].startswith(
        "route forward via docker0 -> filter FORWARD rule 1 -> DOCKER-USER rule 1 RETURN"
    )
    assert cell["trace"].endswith("-> FORWARD policy ACCEPT")  # what let the packet in
    [(kind, who, message)] = fired(report, "NET012")
    assert (kind, who) == ("container", name)
    assert message == (
        f"{name} does not publish 81/tcp, but a LAN host that routes the container's subnet via this host "
        f"reaches it at {address}:81 ({zone}): {cell['trace']}."
    )


def test_net012_is_silent_where_the_forward_policy_drops_and_the_packets_are_dropped(exposure_lab):
    lab = exposure_lab
    with unpublished_server(lab, "plain", 81, "hidden-plain") as hidden, route(lab, "laptop", "plain"):
        name, address = hidden["Name"].lstrip("/"), hidden["NetworkSettings"]["IPAddress"]
        inside = lab.wait_probe("plain", address, 81, banner=True)  # positive control: it listens
        dropped = lab.probe("laptop", address, 81)
        report = scan(lab.engines["plain"].url)
    assert (inside.outcome, inside.banner) == (Outcome.OPEN, b"hidden-plain\n")
    assert dropped.outcome is Outcome.FILTERED
    cell = exposure_cells(report, name, 81)[lan_zone(report)]
    assert (cell["verdict"], cell["via"]) == ("blocked", "direct")
    assert cell["trace"].endswith("-> FORWARD policy DROP")
    assert fired(report, "NET012") == []


def test_host003_names_exactly_the_published_port_a_docker_user_rule_leaves_open(exposure_lab):
    lab = exposure_lab
    plain = lab.engines["plain"]
    rule = ["DOCKER-USER", "-p", "tcp", "-m", "conntrack", "--ctorigdstport", "18131", "-j", "DROP"]
    servers = []
    try:
        for port, text in ((18131, "closed-one"), (18132, "open-one")):
            servers.append(plain.client.containers.run(
                lab.image, f"nc -ll -p 80 -e echo {text}", detach=True, name=f"audlab-{uuid.uuid4().hex[:8]}",
                ports={"80/tcp": ("0.0.0.0", port)},  # IPv4 only: no [::] docker-proxy beside the DNAT
            ))  # fmt: skip
        assert lab.wait_probe("laptop", plain.lan_ip, 18131, banner=True).banner == b"closed-one\n"  # control
        lab.iptables("plain", "-I", *rule)
        try:
            seen = [lab.probe("laptop", plain.lan_ip, port, banner=True) for port in (18131, 18132)]
            servers[0].reload()
            with route(lab, "laptop", "plain"):  # what the model says of the closed one's own address
                routed = lab.probe(
                    "laptop", servers[0].attrs["NetworkSettings"]["IPAddress"], 80, banner=True
                )
            report = scan(plain.url)
        finally:
            lab.iptables("plain", "-D", *rule)
    finally:
        for server in servers:
            server.remove(force=True)
    assert [(s.outcome, s.banner) for s in seen] == [(Outcome.FILTERED, None), (Outcome.OPEN, b"open-one\n")]
    # Docker's DOCKER chain accepts routed packets for a published container port: the DNAT-only
    # DOCKER-USER rule does not close the container's own address
    assert (routed.outcome, routed.banner) == (Outcome.OPEN, b"closed-one\n")
    closed, open_ = servers[0].name, servers[1].name
    zone = lan_zone(report)
    closed_lan, open_lan = exposure_cells(report, closed, 80)[zone], exposure_cells(report, open_, 80)[zone]
    assert (closed_lan["published"], closed_lan["verdict"], closed_lan["via"]) == (
        "blocked",
        "reachable",
        "direct",
    )
    assert (open_lan["published"], open_lan["verdict"], open_lan["via"]) == (
        "reachable",
        "reachable",
        "published",
    )
    assert open_lan["destination"] == f"{plain.lan_ip}:18132"
    [finding] = [f for f in report["findings"] if f["rule_id"] == "HOST003"]
    assert finding["severity"] == "medium"
    evidence = finding["evidence"]
    opened = [z for z, c in exposure_cells(report, open_, 80).items() if c["published"] == "reachable"
              and z.split(":")[0] in ("lan", "internet")]  # fmt: skip
    assert evidence["open_ports"] == f"{open_} 0.0.0.0:18132->80/tcp from {', '.join(opened)}"
    assert evidence["blocked_ports"] == (
        f"{closed} 0.0.0.0:18131->80/tcp (its container port stays reachable by routing to the container from {zone})"
    )
    assert evidence["undecided_ports"] == ""
    assert finding["message"] == (
        f"DOCKER-USER filters container traffic; 1 published port(s) stay reachable from outside the host: "
        f"{evidence['open_ports']}; 1 blocked from outside: {evidence['blocked_ports']}."
    )
