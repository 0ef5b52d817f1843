"""NET005: inter-container communication on the default bridge and shared bridges."""

from __future__ import annotations

from auditor.rules.net005_icc import RULE
from support.builders import DEFAULT_BRIDGE, container, network, run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_daemon_icc_on_fires_on_the_default_bridge():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(icc=True)))
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("NET005", "network", "bridge")
    assert f.message == (
        "Inter-container communication (icc) is enabled on the default bridge: "
        "containers on it can reach each other on every port."
    )


def test_icc_off_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(icc=False))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts())) == []


def test_shared_user_bridge_with_icc():
    snap = snapshot(
        container("a", project="x", networks=("shared",)),
        container("b", project="y", networks=("shared",)),
        daemon=DaemonFacts(icc=False),
    )
    [f] = run_rule(RULE, snap)
    assert (f.resource.name, f.message) == (
        "shared",
        "network shared allows inter-container communication between project x (a) and project y (b).",
    )


def test_shared_user_bridge_with_icc_disabled_is_silent():
    net = network("shared", options={"com.docker.network.bridge.enable_icc": "false"})
    snap = snapshot(
        container("a", project="x", networks=("shared",)),
        container("b", project="y", networks=("shared",)),
        networks=(DEFAULT_BRIDGE, net),
        daemon=DaemonFacts(icc=False),
    )
    assert run_rule(RULE, snap) == []
