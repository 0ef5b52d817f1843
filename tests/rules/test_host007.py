"""HOST007: IPv6 enabled without ip6tables."""

from __future__ import annotations

from auditor.rules.host007_ipv6_without_ip6tables import RULE
from support.builders import DEFAULT_BRIDGE, network, run_rule, snapshot

from auditor.model.records import DaemonFacts

V6NET = network("v6", enable_ipv6=True)


def test_daemon_ipv6_without_ip6tables():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(ipv6=True, ip6tables=False)))
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("HOST007", "host", "testhost")
    assert f.message == (
        "IPv6 is enabled on the default bridge (daemon ipv6) but ip6tables is off: "
        "IPv6 traffic to containers is not filtered."
    )


def test_ipv6_network_without_ip6tables():
    [f] = run_rule(
        RULE, snapshot(networks=(DEFAULT_BRIDGE, V6NET), daemon=DaemonFacts(ipv6=False, ip6tables=False))
    )
    assert (f.resource.kind, f.resource.name) == ("network", "v6")
    assert (
        f.message
        == "network v6 has IPv6 enabled but ip6tables is off: its IPv6 traffic is not filtered or isolated."
    )


def test_ip6tables_on_or_unknown_is_silent():
    assert (
        run_rule(
            RULE, snapshot(networks=(DEFAULT_BRIDGE, V6NET), daemon=DaemonFacts(ipv6=True, ip6tables=True))
        )
        == []
    )
    assert run_rule(RULE, snapshot(networks=(DEFAULT_BRIDGE, V6NET), daemon=DaemonFacts(ipv6=True))) == []


def test_no_ipv6_anywhere_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(ipv6=False, ip6tables=False))) == []
