"""The memos of the exposure analysis never change an answer.

The path model remembers hook walks by the classes of what they read, transports by their
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
from auditor.exposure.matrix import matrix_to_json
from auditor.exposure.paths import PathModel

CONTAINERS, PER_NETWORK = 24, 6
HOST = synthetic_host(CONTAINERS, PER_NETWORK)
BRIDGES = [f"br-{k:012x}" for k in range(CONTAINERS // PER_NETWORK)]
ADDRESSES = [c.endpoints[0].ipv4_address for c in HOST[0]]
IFACES = ["eth0", "eth+", "br-+", "lo", *BRIDGES[:2]]
NETS = [f"{ADDRESSES[0]}/32", f"{ADDRESSES[7]}/32", "198.18.64.0/24", "198.18.65.0/25", "198.18.0.0/16"]
PORTS = ["80", "9100", "20001", "20008", "20000:20005", "1:1024"]
SWITCHES = ("memoize_hooks", "memoize_transports", "memoize_attempts")
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
