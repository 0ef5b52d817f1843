"""HOST005: Docker's iptables management disabled."""

from __future__ import annotations

from auditor.rules.host005_iptables_disabled import RULE
from support.builders import run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_disabled_fires():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(iptables=False)))
    assert (f.rule_id, f.resource.name) == ("HOST005", "testhost")
    assert f.message == (
        "Docker's iptables management is disabled: network isolation and published-port rules "
        "are not maintained by Docker."
    )


def test_enabled_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(iptables=True))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts())) == []
