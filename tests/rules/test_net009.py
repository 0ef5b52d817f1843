"""NET009: containers able to spoof or sniff on shared networks."""

from __future__ import annotations

from auditor.rules.net009_net_caps import RULE
from support.builders import container, run_rule, snapshot

from auditor.severity import Severity


def test_net_admin_on_shared_network_is_high():
    snap = snapshot(container("vpn", cap_add=("NET_ADMIN",), cap_drop=("NET_RAW",)), container("web"))
    findings = {f.resource.name: f for f in run_rule(RULE, snap)}
    f = findings["vpn"]
    assert (f.rule_id, f.severity) == ("NET009", Severity.HIGH)
    assert f.message == "vpn has NET_ADMIN on appnet (shared with web)."
    assert findings["web"].severity is Severity.LOW
    assert findings["web"].message == "web keeps the default NET_RAW capability on appnet (shared with vpn)."


def test_privileged_and_cap_prefix_and_all():
    snap = snapshot(
        container("p", privileged=True),
        container("q", cap_add=("CAP_NET_ADMIN",), cap_drop=("ALL",)),
        container("r", cap_drop=("all",)),
    )
    got = {f.resource.name: (f.severity, f.message) for f in run_rule(RULE, snap)}
    assert got == {
        "p": (Severity.HIGH, "p runs privileged on appnet (shared with q, r)."),
        "q": (Severity.HIGH, "q has NET_ADMIN on appnet (shared with p, r)."),
    }


def test_alone_on_a_network_or_net_raw_dropped_is_silent():
    assert run_rule(RULE, snapshot(container("solo", cap_add=("NET_ADMIN",)))) == []
    snap = snapshot(container("a", cap_drop=("NET_RAW",)), container("b", cap_drop=("CAP_NET_RAW",)))
    assert run_rule(RULE, snap) == []


def test_host_mode_is_left_to_net003_and_many_neighbours_are_counted():
    assert run_rule(RULE, snapshot(container("h", networks=(), network_mode="host", privileged=True))) == []
    crowd = [container(f"n{i}", cap_drop=("NET_RAW",)) for i in range(5)]
    [f] = run_rule(RULE, snapshot(container("x", privileged=True), *crowd))
    assert f.message == "x runs privileged on appnet (shared with 5 other containers)."
