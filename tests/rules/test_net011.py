"""NET011: network-relevant capabilities in cap_add, one finding per entry at its line."""

from __future__ import annotations

from dataclasses import replace

import pytest
from auditor.rules.net011_network_caps import RULE
from support.builders import container, origin, run_rule, snapshot

from auditor.model.records import SourceKind
from auditor.model.severity import Severity


def test_net_admin_alone_is_medium_on_shared_network_high_with_host_critical():
    [f] = run_rule(RULE, snapshot(container("vpn", cap_add=("NET_ADMIN",))))
    assert (f.rule_id, f.severity) == ("NET011", Severity.MEDIUM)
    assert (
        f.message
        == "vpn adds NET_ADMIN (changing interfaces, routes and firewall rules, and promiscuous capture)."
    )
    [f] = run_rule(RULE, snapshot(container("vpn", cap_add=("NET_ADMIN",)), container("web")))
    assert f.severity is Severity.HIGH
    assert f.message.endswith("on appnet, shared with other containers.")
    [f] = run_rule(RULE, snapshot(container("vpn", cap_add=("NET_ADMIN",), networks=(), network_mode="host")))
    assert f.severity is Severity.CRITICAL
    assert f.message.endswith("in the host's network namespace, so on the host's own network.")


@pytest.mark.parametrize(
    ("cap", "alone", "host"),
    [
        ("SYS_MODULE", Severity.HIGH, Severity.CRITICAL),
        ("SYS_ADMIN", Severity.HIGH, Severity.CRITICAL),
        ("ALL", Severity.HIGH, Severity.CRITICAL),
        ("NET_RAW", Severity.LOW, Severity.HIGH),
        ("BPF", Severity.MEDIUM, Severity.HIGH),
    ],
)
def test_severity_per_capability(cap, alone, host):
    [f] = run_rule(RULE, snapshot(container("a", cap_add=(cap,))))
    assert f.severity is alone
    [f] = run_rule(RULE, snapshot(container("a", cap_add=(cap,), networks=(), network_mode="host")))
    assert f.severity is host


def test_one_finding_per_entry_at_its_line_and_other_caps_ignored():
    lines = (
        origin("compose.yaml", 11, SourceKind.COMPOSE),
        origin("compose.yaml", 12, SourceKind.COMPOSE),
        origin("compose.yaml", 13, SourceKind.COMPOSE),
    )
    c = replace(
        container("vpn", cap_add=("CHOWN", "NET_ADMIN", "SYS_MODULE"), compose=True), cap_add_origins=lines
    )
    got = sorted((f.key, f.location.line) for f in run_rule(RULE, snapshot(c)))
    assert got == [("cap_add:NET_ADMIN", 12), ("cap_add:SYS_MODULE", 13)]


def test_without_entry_lines_points_at_the_container():
    [f] = run_rule(RULE, snapshot(container("vpn", cap_add=("NET_ADMIN",))))
    assert f.location.uri == "docker://testhost/containers/vpn"


def test_privileged_is_left_to_net010():
    assert run_rule(RULE, snapshot(container("p", privileged=True, cap_add=("NET_ADMIN",)))) == []


def test_joined_namespace_with_net_admin_is_high():
    snap = snapshot(
        container("a"), container("b", networks=(), network_mode="container:a", cap_add=("NET_ADMIN",))
    )
    [f] = run_rule(RULE, snap)
    assert (f.severity, f.message) == (
        Severity.HIGH,
        "b adds NET_ADMIN (changing interfaces, routes and firewall rules, and promiscuous capture) "
        "in the network namespace it shares with a.",
    )
