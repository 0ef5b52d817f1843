"""NET003: host network mode."""

from __future__ import annotations

from auditor.rules.net003_host_network import RULE
from support.builders import container, run_rule, snapshot

from auditor.model.severity import Severity


def test_fires_on_host_mode():
    [f] = run_rule(RULE, snapshot(container("agent", networks=("host",), network_mode="host")))
    assert (f.rule_id, f.resource.name, f.severity) == ("NET003", "agent", Severity.HIGH)
    assert f.message == "agent runs with network mode host: every port it opens is open on the host."


def test_silent_otherwise():
    snap = snapshot(
        container("a"),
        container("b", networks=(), network_mode="none"),
        container("c", network_mode="container:a"),
    )
    assert run_rule(RULE, snap) == []
