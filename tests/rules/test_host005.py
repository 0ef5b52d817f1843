"""HOST005: Docker's iptables management disabled."""

from __future__ import annotations

from auditor.rules.host_daemon_settings import RULES
from support.builders import run_rule, snapshot

from auditor.model.records import DaemonFacts

RULE = next(r for r in RULES if r.id == "HOST005")


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
