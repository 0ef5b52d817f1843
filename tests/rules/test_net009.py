"""NET009: containers able to spoof or sniff on shared networks."""

from __future__ import annotations

from auditor.rules.net009_net_caps import RULE
from support.builders import container, run_rule, snapshot

from auditor.model.severity import Severity

TAIL = "shared with other containers: it can spoof or sniff their traffic."


def test_net_admin_on_shared_network_is_high_and_default_net_raw_low():
    snap = snapshot(container("vpn", cap_add=("NET_ADMIN",), cap_drop=("NET_RAW",)), container("web"))
    findings = {f.resource.name: f for f in run_rule(RULE, snap)}
    f = findings["vpn"]
    assert (f.rule_id, f.severity) == ("NET009", Severity.HIGH)
    assert f.message == f"vpn has NET_ADMIN on network appnet {TAIL}"
    assert findings["web"].severity is Severity.LOW
    assert findings["web"].message == f"web keeps the default NET_RAW capability on network appnet {TAIL}"


def test_privileged_and_cap_prefix_and_all():
    snap = snapshot(
        container("p", privileged=True),
        container("q", cap_add=("CAP_NET_ADMIN",), cap_drop=("ALL",)),
        container("r", cap_drop=("all",)),
    )
    got = {f.resource.name: (f.severity, f.message) for f in run_rule(RULE, snap)}
    assert got == {
        "p": (Severity.HIGH, f"p runs privileged on network appnet {TAIL}"),
        "q": (Severity.HIGH, f"q has NET_ADMIN on network appnet {TAIL}"),
    }


def test_alone_on_a_network_or_net_raw_dropped_is_silent():
    assert run_rule(RULE, snapshot(container("solo", cap_add=("NET_ADMIN",)))) == []
    snap = snapshot(container("a", cap_drop=("NET_RAW",)), container("b", cap_drop=("CAP_NET_RAW",)))
    assert run_rule(RULE, snap) == []


def test_only_the_shared_networks_are_named():
    snap = snapshot(
        container("x", privileged=True, networks=("front", "private")),
        container("y", cap_drop=("NET_RAW",), networks=("front",)),
        container("z", cap_drop=("NET_RAW",), networks=("back",)),
    )
    [f] = run_rule(RULE, snap)
    assert f.message == f"x runs privileged on network front {TAIL}"
    snap = snapshot(
        container("x", privileged=True, networks=("front", "back")),
        container("y", cap_drop=("NET_RAW",), networks=("front", "back")),
    )
    [f] = run_rule(RULE, snap)
    assert f.message == f"x runs privileged on networks back, front {TAIL}"


def test_host_mode_and_joined_namespace_are_left_to_net003_net004():
    assert run_rule(RULE, snapshot(container("h", networks=(), network_mode="host", privileged=True))) == []
    snap = snapshot(container("a", cap_drop=("NET_RAW",)), container("b", networks=(), network_mode="container:id-a", privileged=True))
    assert run_rule(RULE, snap) == []
