"""The memos of the exposure analysis never change an answer.

The path model remembers hook and chain walks by the classes of what they read, transports by their
first packet's class and whole attempts by what they read of their target. Each is only a
shortcut: the matrix with every memo switched off (each walk, transport and attempt computed
from scratch) must be the same, cell by cell, trace by trace. Checked on a synthetic host
whose containers share rules (where the memos answer most cells) under random rule sets that
single out containers, ports and bridges, in DOCKER-USER and in INPUT.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.exposure_fixtures import load_scenario
from support.exposure_synthetic import synthetic_host
from support.iptables_strategies import iptables_match

from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import firewall_facts, host_network
from auditor.exposure.iptables import parse_iptables_save
from auditor.exposure.matrix import matrix_to_json, render_trace
from auditor.exposure.packet import Context, Packet, first_packet, ip_int
from auditor.exposure.paths import PathModel
from auditor.exposure.walk import Flow, Walker

CONTAINERS, PER_NETWORK = 24, 6
HOST = synthetic_host(CONTAINERS, PER_NETWORK)
BRIDGES = [f"br-{k:012x}" for k in range(CONTAINERS // PER_NETWORK)]
ADDRESSES = [c.endpoints[0].ipv4_address for c in HOST[0]]
IFACES = ["eth0", "eth+", "br-+", "lo", *BRIDGES[:2]]
NETS = [f"{ADDRESSES[0]}/32", f"{ADDRESSES[7]}/32", "198.18.64.0/24", "198.18.65.0/25", "198.18.0.0/16"]
PORTS = ["80", "9100", "20001", "20008", "20000:20005", "1:1024"]
SWITCHES = ("memoize_hooks", "memoize_chains", "memoize_transports", "memoize_attempts")
BASE = load_scenario("default")


@contextmanager
def memos_off() -> Iterator[None]:
    saved = {name: getattr(PathModel, name) for name in SWITCHES}
    try:
        for name in SWITCHES:
            setattr(PathModel, name, False)
        yield
    finally:
        for name, value in saved.items():
            setattr(PathModel, name, value)


def match():
    kinds = ("iif", "oif", "src", "dst", "dport", "multiport", "ctstate", "ctorig")
    return iptables_match(IFACES, NETS, PORTS, kinds)


@st.composite
def rule(draw, chain: str) -> str:
    parts = draw(st.lists(match(), max_size=3))
    target = draw(st.sampled_from(["ACCEPT", "DROP", "REJECT", "RETURN"]))
    return f"-A {chain} {' '.join(parts)} -j {target}".replace("  ", " ")


def _matrix(containers, networks, firewall, network) -> dict:
    return matrix_to_json(analyze_exposure(containers, networks, firewall, network, every_attempt=True))


def _assert_same(containers, networks, firewall, network) -> None:
    remembered = _matrix(containers, networks, firewall, network)
    with memos_off():
        fresh = _matrix(containers, networks, firewall, network)
    assert len(remembered["cells"]) == len(fresh["cells"]) > 0
    for a, b in zip(remembered["cells"], fresh["cells"], strict=True):
        assert a == b, (a["zone"], a["container"], a["port"])
    assert remembered == fresh


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(rule("DOCKER-USER"), max_size=5), st.lists(rule("INPUT"), max_size=3))
def test_memos_never_change_the_synthetic_hosts_matrix(user, inputs):
    containers, networks, fw_dumps, net_dumps = HOST
    text = fw_dumps["iptables_save"]
    text = text.replace(
        "-A DOCKER-USER -j RETURN\n", "".join(r + "\n" for r in user) + "-A DOCKER-USER -j RETURN\n"
    )
    text = text.replace(
        ":DOCKER-USER - [0:0]\n", ":DOCKER-USER - [0:0]\n" + "".join(r + "\n" for r in inputs)
    )
    firewall = firewall_facts(**{**fw_dumps, "iptables_save": text})
    assert not firewall.problems
    _assert_same(containers, networks, firewall, host_network(**net_dumps))


@SETTINGS
@given(st.lists(rule("DOCKER-USER"), max_size=6))
def test_memos_never_change_a_real_engines_matrix(user):
    text = (BASE.firewall.iptables_save or "").replace(
        "-A DOCKER-USER -j RETURN\n", "".join(r + "\n" for r in user) + "-A DOCKER-USER -j RETURN\n"
    )
    firewall = firewall_facts(
        iptables_save=text, ip6tables_save=BASE.firewall.ip6tables_save, nft_json=BASE.firewall.nft_json
    )
    _assert_same(BASE.containers, BASE.networks, firewall, BASE.network)


def test_the_memos_answer_most_of_the_synthetic_host():
    """The comparison above is not vacuous: with the memos on, far fewer walks are made."""
    containers, networks, fw_dumps, net_dumps = HOST
    firewall, network = firewall_facts(**fw_dumps), host_network(**net_dumps)
    counts = []
    original = PathModel._run_stages
    for off in (False, True):
        calls = 0

        def counting(self, *args, **kwargs):
            nonlocal calls
            calls += 1
            return original(self, *args, **kwargs)

        PathModel._run_stages = counting  # type: ignore[method-assign]
        try:
            if off:
                with memos_off():
                    _matrix(containers, networks, firewall, network)
            else:
                _matrix(containers, networks, firewall, network)
        finally:
            PathModel._run_stages = original  # type: ignore[method-assign]
        counts.append(calls)
    assert counts[0] * 3 < counts[1], counts


# -- chain walks that need not key on the destination -----------------------------------
WALK_ADDRESSES = [f"198.18.16.{n}" for n in range(2, 12)]
WALK_IFACES = ["eth0", "br0", "br1", "br+"]


def _docker_chain(rules: list[str], policy: str = "DROP") -> object:
    text = (
        f"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD {policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n"
        "-A FORWARD -o br0 -j DOCKER\n-A FORWARD -i br0 -o br0 -j ACCEPT\n"
        + "".join(r + "\n" for r in rules)
        + "COMMIT\n"
    )
    return parse_iptables_save(text).table("filter")


def _packet(dst: str, dport: int, iif: str, oif: str) -> Packet:
    return first_packet(4, "tcp", ip_int("198.18.0.254")[1], 40000, ip_int(dst)[1], dport, iif)._replace(
        oif=oif
    )


def _answers(walker: Walker, table, pkt: Packet) -> list[tuple]:
    return [
        (b.verdict, render_trace(b.flow.steps), sorted(b.flow.undecided))
        for b in walker.walk_table(table, "FORWARD", Flow(pkt), always_policy=True)
    ]


def test_a_chain_of_per_container_rules_is_walked_once_for_packets_none_of_them_takes():
    """Docker's DOCKER chain holds one rule per container address: a frame between two
    containers of one bridge fails every one of them on ``! -i``, and so does a port that is
    not published; those walks are remembered without the destination. A packet a rule takes
    is still walked for its own address (its trace names its rule)."""
    rules = [
        f"-A DOCKER -d {a}/32 ! -i br0 -o br0 -p tcp -m tcp --dport 80 -j ACCEPT" for a in WALK_ADDRESSES
    ]
    table = _docker_chain(rules)
    walker = Walker(Context())
    bridged = [_answers(walker, table, _packet(a, 80, "br0", "br0")) for a in WALK_ADDRESSES]
    assert (
        bridged
        == [[("ACCEPT", "filter FORWARD rule 1 -> DOCKER (no match) -> FORWARD rule 2 ACCEPT", [])]] * 10
    )
    assert walker.walks == len(WALK_ADDRESSES) + 1  # FORWARD each time, DOCKER once
    unpublished = [_answers(walker, table, _packet(a, 9100, "eth0", "br0")) for a in WALK_ADDRESSES]
    assert (
        unpublished
        == [[("DROP", "filter FORWARD rule 1 -> DOCKER (no match) -> FORWARD policy DROP", [])]] * 10
    )
    assert walker.walks == 2 * len(WALK_ADDRESSES) + 2
    published = [_answers(walker, table, _packet(a, 80, "eth0", "br0")) for a in WALK_ADDRESSES]
    assert published == [
        [("ACCEPT", f"filter FORWARD rule 1 -> DOCKER rule {i} ACCEPT", [])] for i in range(1, 11)
    ]
    assert walker.walks == 4 * len(WALK_ADDRESSES) + 2


@st.composite
def _dst_rule(draw) -> str:
    own = f"{draw(st.sampled_from(['', '! ']))}-d {draw(st.sampled_from(WALK_ADDRESSES))}/32"
    kinds = ("iif", "oif", "dport", "multiport", "ctstate", "proto", "src", "dst")
    others = draw(
        st.lists(iptables_match(WALK_IFACES, ["198.18.0.0/24", "198.18.16.4/32"], PORTS, kinds), max_size=2)
    )
    target = draw(st.sampled_from(["ACCEPT", "DROP", "RETURN"]))
    return " ".join(["-A DOCKER", own, *others, "-j", target])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_dst_rule(), min_size=1, max_size=12),
    st.lists(
        st.sampled_from(
            [f"-A DOCKER {m} -j DROP" for m in ("-i eth0", "-p udp", "-p tcp -m tcp --dport 9100")]
        ),
        max_size=2,
    ),
    st.sampled_from(["DROP", "ACCEPT"]),
)
def test_remembered_chain_walks_answer_as_fresh_walks(rules, plain, policy):
    """Every packet's walk through a chain of destination rules, from a walker that
    remembers chain walks (also without the destination), equals a walk from scratch."""
    table = _docker_chain([*rules[:6], *plain, *rules[6:]], policy)
    walker = Walker(Context())
    for dport in (80, 9100, 20001):
        for iif, oif in (("br0", "br0"), ("eth0", "br0"), ("br1", "br0"), ("eth0", "br1")):
            for dst in WALK_ADDRESSES[:5]:
                pkt = _packet(dst, dport, iif, oif)
                assert _answers(walker, table, pkt) == _answers(Walker(Context(), memoize=False), table, pkt)
