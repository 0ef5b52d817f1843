"""HOST006: default bind address is all interfaces."""

from __future__ import annotations

from auditor.rules.host006_default_bind import RULE
from support.builders import run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_wildcard_default_fires():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(default_bind_ip="0.0.0.0")))
    assert (f.rule_id, f.resource.name) == ("HOST006", "testhost")
    assert f.message == (
        "The daemon's default bind address is 0.0.0.0: ports published without a host address "
        "listen on all interfaces."
    )


def test_ipv6_wildcard_default_fires():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(default_bind_ip="::")))
    assert f.message.startswith("The daemon's default bind address is ::")


def test_loopback_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(default_bind_ip="127.0.0.1"))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(default_bind_ip="::1"))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts())) == []
