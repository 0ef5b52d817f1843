"""The exposure matrix of real lab engines against real packets, scenario by scenario.

Each lab engine (``exposure_lab`` in conftest: plain defaults, forwarding on before dockerd,
the userland proxy off, IPv6 with ip6tables) runs the standard containers; a scenario may add
rules. The engine's firewall is read inside its namespace with the exposure readers, the
matrix computed for the real probers' addresses, and every attempt of every cell is tried
with real packets from the zone's prober: the LAN host (which routes the bridge subnets via
the engine), a host beyond the router (the internet), the engine itself, a container on each
network. Every answer the model gives must be what the packets do.
"""

from __future__ import annotations

import pytest
from support.exposure_scenarios import (
    NFT_TABLE,
    UFW,
    UNKNOWN_MATCH,
    USER_ALLOW,
    USER_PORT,
    apply,
    fill,
    restore,
)

from auditor.exposure import Verdict

pytestmark = [pytest.mark.lab, pytest.mark.engine]


def checked(exposure_lab, engine: str):
    matrix, tally = exposure_lab.check(engine)
    print(f"{engine}: {tally.summary()}")
    for d in tally.disagreements:
        print("  DISAGREE", d)
    assert tally.disagreements == []
    assert tally.attempts > 0 and tally.cells > 0
    return matrix, tally


def with_rules(exposure_lab, engine: str, text: str, ipv6: bool = False):
    """The engine's matrix and its comparison with packets while ``text`` is applied."""
    lab = exposure_lab.lab
    saved = lab.iptables_save(engine, ipv6=ipv6)
    apply(lab, engine, fill(lab, engine, text, exposure_lab.lan_hosts[engine]), ipv6=ipv6)
    try:
        return checked(exposure_lab, engine)
    finally:
        restore(lab, engine, saved, ipv6=ipv6)


def attempt(matrix, zone: str, container: str, port: int, destination: str):
    cell = matrix.cell(zone, container, port)
    assert cell is not None, (zone, container, port)
    return next(a for a in cell.attempts if a.destination == destination)


def test_default_rules(exposure_lab):
    matrix, tally = checked(exposure_lab, "plain")
    assert tally.cells_unknown == 0 and tally.attempts_unknown == 0
    lab = exposure_lab.lab
    ip = lab.engines["plain"].lan_ip
    assert attempt(matrix, "lan:eth0", "web", 80, f"{ip}:8080").verdict is Verdict.REACHABLE
    # dockerd turned forwarding on itself, so FORWARD's policy is DROP: direct routing from
    # the LAN reaches only the published containers' own ports.
    web = exposure_lab.setups["plain"]
    assert web.servers["web"] == (80, 5432)
    unpublished = matrix.cell("lan:eth0", "web", 5432)
    assert unpublished.verdict is Verdict.BLOCKED
    assert unpublished.trace.endswith("FORWARD policy DROP")
    # 127.0.0.1:15432 answers a LAN neighbour that sends to 127.0.0.1 (moby 41872/45610).
    db = attempt(matrix, "lan:eth0", "db", 5432, "127.0.0.1:15432")
    assert db.verdict is Verdict.REACHABLE
    assert db.trace.startswith("nat PREROUTING rule 1 -> DOCKER rule")


def test_direct_routing_to_an_unpublished_port(exposure_lab):
    """Forwarding was on before dockerd started, so FORWARD stayed ACCEPT: a LAN host with a
    route to the bridge subnet reaches a port nobody published. The matrix says so, with the
    trace of what let it through."""
    matrix, _ = checked(exposure_lab, "fwd")
    cell = matrix.cell("lan:eth0", "web", 5432)
    assert cell.verdict is Verdict.REACHABLE
    assert [a.via for a in cell.attempts] == ["direct"]
    assert cell.decisive.destination.endswith(":5432")
    assert cell.trace == (
        "route forward via docker0 -> filter FORWARD rule 1 -> DOCKER-USER rule 1 RETURN -> FORWARD rule 2 -> "
        "DOCKER-ISOLATION-STAGE-1 rule 4 RETURN -> FORWARD rule 12 -> DOCKER (no match) -> FORWARD policy ACCEPT"
    )
    # The internet host cannot address the container: no attempt, and the probe of the
    # container's address from there found nothing either (compare checks it).
    assert matrix.cell("internet:eth0", "web", 5432).attempts == ()
    assert matrix.cell("internet:eth0", "web", 5432).note.startswith("no path")


def test_docker_user_allow_list(exposure_lab):
    matrix, _ = with_rules(exposure_lab, "plain", USER_ALLOW)
    ip = exposure_lab.lab.engines["plain"].lan_ip
    lan = attempt(matrix, "lan:eth0", "web", 80, f"{ip}:8080")
    assert lan.verdict is Verdict.REACHABLE and "DOCKER-USER rule 2 RETURN" in lan.trace
    internet = attempt(matrix, "internet:eth0", "web", 80, f"{ip}:8080")
    assert internet.verdict is Verdict.BLOCKED
    assert internet.trace.endswith("filter FORWARD rule 1 -> DOCKER-USER rule 3 DROP")
    # docker-proxy takes IPv6 clients in through INPUT: the IPv4 allow-list does not see them.
    assert matrix.cell("internet:eth0", "web", 80).verdict is Verdict.REACHABLE


def test_docker_user_drop_for_one_port_dport_mistake_and_ctorigdstport_fix(exposure_lab):
    matrix, _ = with_rules(exposure_lab, "plain", USER_PORT)
    ip = exposure_lab.lab.engines["plain"].lan_ip
    # `--dport 8081` sees the container's port (80) after DNAT: 8081 stays open.
    api = attempt(matrix, "lan:eth0", "api", 80, f"{ip}:8081")
    assert api.verdict is Verdict.REACHABLE and "DOCKER-USER rule 4 RETURN" in api.trace
    # `--ctorigdstport 8080` sees the port the client asked for: 8080 is closed.
    web = attempt(matrix, "lan:eth0", "web", 80, f"{ip}:8080")
    assert web.verdict is Verdict.BLOCKED
    assert web.trace.endswith("filter FORWARD rule 1 -> DOCKER-USER rule 2 DROP")
    # A --dport rule does match an unpublished port reached directly.
    assert matrix.cell("lan:eth0", "cache", 6379).trace.endswith(
        "filter FORWARD rule 1 -> DOCKER-USER rule 3 DROP"
    )
    # The raw guard closes direct routing to 5432 on docker0 before any nat.
    assert matrix.cell("lan:eth0", "web", 5432).trace == "raw PREROUTING rule 1 DROP"


def test_ufw_style_chains_and_a_host_network_container(exposure_lab):
    matrix, _ = with_rules(exposure_lab, "plain", UFW)
    ip = exposure_lab.lab.engines["plain"].lan_ip
    allowed = attempt(matrix, "lan:eth0", "hostsvc", 9001, f"{ip}:9001")
    assert allowed.verdict is Verdict.REACHABLE
    assert allowed.trace.endswith("ufw-user-input rule 2 ACCEPT -> host port 9001/tcp")
    closed = attempt(matrix, "lan:eth0", "hostsvc", 9000, f"{ip}:9000")
    assert closed.verdict is Verdict.BLOCKED and closed.trace.endswith("INPUT policy DROP")
    # UFW's INPUT chain never sees published ports: DNAT sends them through FORWARD.
    assert attempt(matrix, "internet:eth0", "web", 80, f"{ip}:8080").verdict is Verdict.REACHABLE
    # Containers on docker0 get in (ufw-user-input -i docker0 ACCEPT), other bridges do not.
    assert matrix.cell("network:bridge", "hostsvc", 9000).verdict is Verdict.REACHABLE
    assert matrix.cell("network:appnet", "hostsvc", 9000).verdict is Verdict.BLOCKED


def test_userland_proxy_on_and_off(exposure_lab):
    on, _ = checked(exposure_lab, "plain")
    off, _ = checked(exposure_lab, "noproxy")
    # From the host itself: docker-proxy on 127.0.0.1:8080, or DNAT in OUTPUT without it.
    assert "docker-proxy 0.0.0.0:8080" in attempt(on, "host", "web", 80, "127.0.0.1:8080").trace
    loop = attempt(off, "host", "web", 80, "127.0.0.1:8080")
    assert loop.verdict is Verdict.REACHABLE
    assert "nat OUTPUT rule 1 -> DOCKER" in loop.trace and "rerouted via docker0" in loop.trace
    # A container on another network reaches a published port through the proxy on the
    # gateway; without the proxy the hairpin goes through DNAT and FORWARD, where isolation
    # drops it.
    gw_on = on.cell("network:appnet", "web", 80)
    gw_off = off.cell("network:appnet", "web", 80)
    assert gw_on.verdict is Verdict.REACHABLE and "docker-proxy" in gw_on.trace
    assert gw_off.verdict is Verdict.BLOCKED and "DOCKER-ISOLATION-STAGE-2" in gw_off.trace
    # IPv6 clients: only the proxy takes them (no ip6tables rules here); without it Docker
    # binds nothing on IPv6, so the model has no IPv6 way in and the packets find none.
    ip6 = exposure_lab.lab.engines["plain"].lan_ip6
    assert attempt(on, "lan:eth0", "web", 80, f"[{ip6}]:8080").verdict is Verdict.REACHABLE
    assert [a.family for a in off.cell("lan:eth0", "web", 80).attempts] == [4, 4]


def test_ipv6_with_ip6tables(exposure_lab):
    matrix, _ = checked(exposure_lab, "six")
    ip6 = exposure_lab.lab.engines["six"].lan_ip6
    published = attempt(matrix, "lan:eth0", "v6web", 80, f"[{ip6}]:8090")
    assert published.verdict is Verdict.REACHABLE
    assert published.trace.startswith("nat PREROUTING rule 1 -> DOCKER rule")
    # Direct routing over IPv6 meets ip6tables' FORWARD policy DROP (forwarding off before
    # dockerd here) while the IPv6 internet host cannot address the container at all.
    direct = [a for a in matrix.cell("lan:eth0", "v6web", 5432).attempts if a.family == 6]
    assert direct and all(a.verdict is Verdict.BLOCKED for a in direct)


def test_unknown_matches_give_unknown_and_never_blocked(exposure_lab):
    """A rate limit the model cannot decide: those answers are unknown (and not counted),
    everything else still agrees with the packets."""
    matrix, tally = with_rules(exposure_lab, "plain", UNKNOWN_MATCH)
    assert tally.cells_unknown > 0
    unknown = [c for c in matrix.cells if c.verdict is Verdict.UNKNOWN]
    assert all(c.zone in ("lan:eth0", "internet:eth0") for c in unknown)
    assert all("filter DOCKER-USER rule 1" in c.decisive.undecided for c in unknown)


def test_an_nftables_table_beside_iptables(exposure_lab):
    """On the engine whose FORWARD accepts, an nftables chain at priority 10 still drops
    what iptables let through."""
    lab = exposure_lab.lab
    lab.run("fwd", ["nft", "-f", "-"], input=fill(lab, "fwd", NFT_TABLE, exposure_lab.lan_hosts["fwd"]))
    try:
        matrix, _ = checked(exposure_lab, "fwd")
    finally:
        lab.run("fwd", ["nft", "delete", "table", "inet", "audexp"])
    cell = matrix.cell("lan:eth0", "cache", 6379)
    assert cell.verdict is Verdict.BLOCKED
    assert cell.trace.endswith("FORWARD policy ACCEPT -> inet audexp forward_guard rule 1 DROP")
