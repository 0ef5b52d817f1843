"""NET007: macvlan / ipvlan attachments."""

from __future__ import annotations

from auditor.rules.net007_macvlan import RULE
from support.builders import DEFAULT_BRIDGE, container, network, run_rule, snapshot


def test_macvlan_with_parent_fires():
    net = network("lan", driver="macvlan", options={"parent": "eth0"})
    [f] = run_rule(RULE, snapshot(container("cam", networks=("lan",)), networks=(DEFAULT_BRIDGE, net)))
    assert (f.rule_id, f.resource.name) == ("NET007", "cam")
    assert (
        f.message
        == "cam is attached to macvlan network lan on parent interface eth0: it sits directly on the LAN."
    )


def test_ipvlan_without_parent():
    net = network("l2", driver="ipvlan")
    [f] = run_rule(RULE, snapshot(container("x", networks=("l2",)), networks=(DEFAULT_BRIDGE, net)))
    assert f.message == "x is attached to ipvlan network l2: it sits directly on the LAN."


def test_bridge_and_unknown_networks_are_silent():
    assert run_rule(RULE, snapshot(container("a", networks=("appnet",)))) == []
    assert run_rule(RULE, snapshot(container("a", networks=("missing",)), networks=(DEFAULT_BRIDGE,))) == []
