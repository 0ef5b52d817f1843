"""HOST004: userland proxy enabled."""

from __future__ import annotations

from auditor.rules.host004_userland_proxy import RULE
from support.builders import run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_enabled_fires():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(userland_proxy=True)))
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("HOST004", "host", "testhost")
    assert f.message == (
        "The userland proxy is enabled: published ports are served by docker-proxy processes "
        "and containers see the proxy as the client."
    )


def test_disabled_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(userland_proxy=False))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts())) == []
