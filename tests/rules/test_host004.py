"""HOST004: userland proxy enabled."""

from __future__ import annotations

from auditor.rules.host004_userland_proxy import RULE
from support.builders import run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_enabled_fires():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(userland_proxy=True, iptables=True)))
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("HOST004", "host", "testhost")
    assert f.message == (
        "The userland proxy is enabled: a docker-proxy process listens on every published port, and the "
        "connections it carries (those from this host to loopback and any the kernel's NAT does not carry) "
        "reach containers from the proxy's address, not the client's."
    )


def test_without_iptables_the_proxy_carries_every_connection():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(userland_proxy=True, iptables=False)))
    assert f.message == (
        "The userland proxy is enabled: a docker-proxy process listens on every published port, and the "
        "connections it carries (every connection, as Docker's iptables management is off) reach containers "
        "from the proxy's address, not the client's."
    )


def test_disabled_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(userland_proxy=False))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts())) == []
