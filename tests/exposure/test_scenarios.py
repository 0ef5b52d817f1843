"""The model on real dumps of namespace engines, checked against the packets sent there.

Each ``tests/fixtures/netfilter/<scenario>`` holds the dumps of a throwaway dockerd (captured
by ``capture_fixtures.py``) and ``probes.json``: real TCP connection attempts from a LAN
host, an "internet" source, the host and containers, with what the kernel did. The model,
run offline on the dumps, must give the same answer for every probe it answers.
"""

from __future__ import annotations

import json

import pytest
from support.exposure_fixtures import load_scenario, scenarios

from auditor.exposure.analysis import bridge_name
from auditor.exposure.matrix import Verdict, matrix_to_json

SCENARIOS = scenarios()
UNKNOWN_EXPECTED = {"unknown-match"}


def bridge(scenario, network: str) -> str:
    net = next(n for n in scenario.networks if n.name == network)
    name = bridge_name(net)
    assert name is not None
    return name


def attempt_for(matrix, probe):
    cell = matrix.cell(probe["zone"], probe["target"], probe["target_port"])
    assert cell is not None, probe
    return next((a for a in cell.attempts if a.destination == probe["destination"]), None)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_answered_probe_agrees_with_the_kernel(name):
    scenario = load_scenario(name)
    matrix = scenario.analyze(every=True)
    assert scenario.probes, "each scenario records probes"
    disagreements, unknown = [], []
    for probe in scenario.probes:
        attempt = attempt_for(matrix, probe)
        opened = probe["outcome"] == "open"
        if attempt is None:  # the model sees no way there: the kernel must not have connected
            if opened:
                disagreements.append((probe, "no attempt"))
            continue
        if attempt.verdict is Verdict.UNKNOWN:
            unknown.append(probe["destination"])
            continue
        if (attempt.verdict is Verdict.REACHABLE) != opened:
            disagreements.append((probe, attempt.verdict.value, attempt.trace))
    assert disagreements == []
    if name not in UNKNOWN_EXPECTED:
        assert unknown == []


def test_default_engine():
    s = load_scenario("default")
    m = s.analyze()
    web = m.cell("lan:eth0", "web", 80)
    assert web.verdict is Verdict.REACHABLE and web.decisive.destination == "198.18.0.1:8080"
    assert web.trace == (
        "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT 198.18.16.2:80 -> route forward via docker0 -> "
        "filter FORWARD rule 1 -> DOCKER-USER rule 1 RETURN -> FORWARD rule 2 -> DOCKER-ISOLATION-STAGE-1 rule 4 RETURN -> "
        "FORWARD rule 12 -> DOCKER rule 1 ACCEPT"
    )
    # Direct routing: FORWARD's policy is ACCEPT here, so the unpublished port is open to the LAN.
    unpublished = m.cell("lan:eth0", "web", 5432)
    assert unpublished.verdict is Verdict.REACHABLE
    assert [a.via for a in unpublished.attempts] == ["direct"]
    assert unpublished.trace == (
        "route forward via docker0 -> filter FORWARD rule 1 -> DOCKER-USER rule 1 RETURN -> FORWARD rule 2 -> "
        "DOCKER-ISOLATION-STAGE-1 rule 4 RETURN -> FORWARD rule 12 -> DOCKER (no match) -> FORWARD policy ACCEPT"
    )
    assert m.cell("internet:eth0", "web", 5432).verdict is Verdict.BLOCKED
    assert m.cell("internet:eth0", "web", 5432).note.startswith("no path")
    # Other networks: isolation drops direct traffic, the proxy on the gateway lets it in.
    appnet = bridge(s, "appnet")
    other = m.cell("network:appnet", "web", 5432)
    assert other.verdict is Verdict.BLOCKED and other.relation == "other-network"
    assert other.trace.endswith("DOCKER-ISOLATION-STAGE-1 rule 2 -> DOCKER-ISOLATION-STAGE-2 rule 3 DROP")
    hairpin = m.cell("network:appnet", "web", 80)
    assert hairpin.verdict is Verdict.REACHABLE and hairpin.decisive.destination == "198.18.32.1:8080"
    assert "docker-proxy 0.0.0.0:8080 -> 198.18.16.2:80" in hairpin.trace
    same = m.cell("network:appnet", "db", 5432)
    assert same.relation == "same-network" and same.verdict is Verdict.REACHABLE
    assert same.trace.startswith(f"bridged on {appnet} -> filter FORWARD rule 1")
    # 127.0.0.1:15432 is still reached from the LAN through DNAT (moby 41872/45610).
    db = m.cell("lan:eth0", "db", 5432)
    published = next(a for a in db.attempts if a.via == "published")
    assert published.destination == "127.0.0.1:15432" and published.verdict is Verdict.REACHABLE
    assert m.notes == ()


def test_docker_user_dport_versus_ctorigdstport():
    s = load_scenario("user-port")
    m = s.analyze(every=True)
    # `--dport 8081` sees the container port (80) after DNAT: it does not close 8081.
    api = next(a for a in m.cell("lan:eth0", "api", 80).attempts if a.destination == "198.18.0.1:8081")
    assert api.verdict is Verdict.REACHABLE
    assert "DOCKER-USER rule 4 RETURN" in api.trace
    # `--ctorigdstport 8080` sees the port the client asked for: it closes 8080.
    web = next(a for a in m.cell("lan:eth0", "web", 80).attempts if a.destination == "198.18.0.1:8080")
    assert web.verdict is Verdict.BLOCKED
    assert web.trace == (
        "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT 198.18.16.2:80 -> route forward via docker0 -> "
        "filter FORWARD rule 1 -> DOCKER-USER rule 2 DROP"
    )
    # ... but not for IPv6 clients, which docker-proxy takes in through INPUT.
    web6 = next(a for a in m.cell("lan:eth0", "web", 80).attempts if a.destination == "[2001:2:0:1::1]:8080")
    assert web6.verdict is Verdict.REACHABLE
    # A `--dport` rule does match unpublished ports reached directly.
    assert m.cell("lan:eth0", "cache", 6379).trace.endswith(
        "filter FORWARD rule 1 -> DOCKER-USER rule 3 DROP"
    )
    # The raw-table guard (what Docker 28 adds) closes direct routing to 5432 on docker0.
    assert m.cell("lan:eth0", "web", 5432).trace == "raw PREROUTING rule 1 DROP"


def test_docker_user_allow_list():
    m = load_scenario("user-allow").analyze(every=True)
    lan = next(a for a in m.cell("lan:eth0", "web", 80).attempts if a.destination == "198.18.0.1:8080")
    assert lan.verdict is Verdict.REACHABLE and "DOCKER-USER rule 2 RETURN" in lan.trace
    internet = next(
        a for a in m.cell("internet:eth0", "web", 80).attempts if a.destination == "198.18.0.1:8080"
    )
    assert internet.verdict is Verdict.BLOCKED and internet.trace.endswith(
        "filter FORWARD rule 1 -> DOCKER-USER rule 3 DROP"
    )


def test_ufw_style_input_rules_and_a_host_network_container():
    m = load_scenario("ufw").analyze(every=True)
    open_port = next(a for a in m.cell("lan:eth0", "hostsvc", 9001).attempts if a.family == 4)
    assert open_port.verdict is Verdict.REACHABLE
    assert open_port.trace == (
        "nat PREROUTING rule 1 -> DOCKER (no match) -> route local -> filter INPUT rule 1 -> ufw-before-input rule 5 -> "
        "ufw-user-input rule 2 ACCEPT -> host port 9001/tcp"
    )
    closed = next(a for a in m.cell("lan:eth0", "hostsvc", 9000).attempts if a.family == 4)
    assert closed.verdict is Verdict.BLOCKED
    assert closed.trace == (
        "nat PREROUTING rule 1 -> DOCKER (no match) -> route local -> filter INPUT rule 1 -> ufw-before-input rule 5 -> ufw-user-input (no match) -> "
        "INPUT rule 2 -> ufw-after-input (no match) -> INPUT policy DROP"
    )
    # UFW's INPUT rules do not see published ports: DNAT sends them through FORWARD.
    assert m.cell("internet:eth0", "web", 80).verdict is Verdict.REACHABLE
    assert m.cell("host", "hostsvc", 9000).trace == (
        "route local -> filter OUTPUT policy ACCEPT -> filter INPUT rule 1 -> ufw-before-input rule 1 ACCEPT -> host port 9000/tcp"
    )


def test_userland_proxy_off():
    m = load_scenario("proxy-off").analyze(every=True)
    loop = next(a for a in m.cell("host", "web", 80).attempts if a.destination == "127.0.0.1:8080")
    assert loop.verdict is Verdict.REACHABLE
    assert "nat OUTPUT rule 1 -> DOCKER" in loop.trace and "rerouted via docker0" in loop.trace
    # Hairpin from another network now goes through DNAT and FORWARD, where isolation drops it.
    hairpin = next(
        a for a in m.cell("network:appnet", "web", 80).attempts if a.destination == "198.18.32.1:8080"
    )
    assert hairpin.verdict is Verdict.BLOCKED and "DOCKER-ISOLATION-STAGE-2" in hairpin.trace


def test_icc_off_and_iptables_off():
    icc = load_scenario("icc-off").analyze()
    same = icc.cell("network:bridge", "web", 5432)
    assert same.verdict is Verdict.BLOCKED and same.trace.endswith("DROP")
    off = load_scenario("iptables-off").analyze()
    # No Docker rules at all: other networks reach the unpublished port through the router.
    assert off.cell("network:appnet", "web", 5432).verdict is Verdict.REACHABLE
    # No DNAT either: the LAN reaches the published port through docker-proxy.
    assert (
        off.cell("lan:eth0", "web", 80).trace
        == "route local -> docker-proxy 0.0.0.0:8080 -> 198.18.16.2:80 -> proxy connects -> route out via docker0"
    )


def test_ipv6_with_ip6tables():
    m = load_scenario("ipv6").analyze(every=True)
    cell = m.cell("lan:eth0", "v6web", 5432)
    by = {a.destination: a for a in cell.attempts}
    assert by["[2001:2:0:e0::2]:5432"].verdict is Verdict.BLOCKED  # ip6tables FORWARD policy DROP
    assert by["[2001:2:0:e0::2]:5432"].trace.endswith("FORWARD policy DROP")
    assert by["198.18.40.2:5432"].verdict is Verdict.REACHABLE  # ... while IPv4 FORWARD accepts
    published = by = {a.destination: a for a in m.cell("lan:eth0", "v6web", 80).attempts}
    assert published["[2001:2:0:1::1]:8090"].trace.startswith(
        "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT [2001:2:0:e0::2]:80"
    )


def test_a_rule_with_an_unknown_match_gives_unknown_only_where_it_is_on_the_path():
    m = load_scenario("unknown-match").analyze()
    lan = m.cell("lan:eth0", "web", 5432)
    assert lan.verdict is Verdict.UNKNOWN
    attempt = lan.decisive
    assert attempt.undecided == ("filter DOCKER-USER rule 1",)
    assert attempt.reasons == ("the answer depends on filter DOCKER-USER rule 1",)
    assert [v for v, _ in attempt.alternatives] == [Verdict.REACHABLE]
    # The UDP rate limit never matches TCP, and containers do not come in on eth0.
    assert m.cell("network:appnet", "db", 5432).verdict is Verdict.REACHABLE
    assert m.cell("host", "web", 80).verdict is Verdict.REACHABLE
    # Published ports stay reachable through docker-proxy on [::], which DOCKER-USER never sees;
    # what stays unknown is exactly what only the IPv4 FORWARD path reaches from eth0.
    unknown = sorted((c.zone, c.container, c.port) for c in m.cells if c.verdict is Verdict.UNKNOWN)
    assert unknown == [("lan:eth0", "cache", 6379), ("lan:eth0", "db", 5432), ("lan:eth0", "web", 5432)]


def test_nft_table_beside_iptables():
    s = load_scenario("nft-table")
    assert [f.name for f in s.firewall.nft.foreign] == ["audexp"]
    m = s.analyze(every=True)
    cell = m.cell("lan:eth0", "web", 5432)
    assert cell.verdict is Verdict.BLOCKED
    # iptables' FORWARD accepts (policy), and the nft chain at priority 10 still drops.
    assert cell.trace.endswith("FORWARD policy ACCEPT -> inet audexp forward_guard rule 1 DROP")


def test_matrix_json_is_plain_and_versioned():
    m = load_scenario("default").analyze()
    doc = json.loads(json.dumps(matrix_to_json(m)))
    assert doc["schema_version"] == "1.0"
    assert [z["id"] for z in doc["zones"]] == [
        "lan:eth0",
        "internet:eth0",
        "host",
        "network:appnet",
        "network:bridge",
        "network:othernet",
    ]
    cell = next(
        c for c in doc["cells"] if c["zone"] == "lan:eth0" and c["container"] == "web" and c["port"] == 80
    )
    assert cell["verdict"] == "reachable"
    assert cell["attempts"][0]["steps"][1] == {
        "table": "nat",
        "chain": "DOCKER",
        "rule": 4,
        "action": "DNAT 198.18.16.2:80",
        "text": "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 198.18.16.2:80",
    }
    assert len(doc["cells"]) == len(m.cells) == 6 * len(m.targets)
