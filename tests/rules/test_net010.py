"""NET010: privileged containers, worse with host networking, pointing at the `privileged:` line."""

from __future__ import annotations

from dataclasses import replace

from auditor.rules.net010_privileged import RULE
from support.builders import container, origin, run_rule, snapshot

from auditor.model.records import SourceKind
from auditor.model.severity import Severity


def test_privileged_is_high_and_names_shared_networks():
    [f] = run_rule(RULE, snapshot(container("vpn", privileged=True), container("web")))
    assert (f.rule_id, f.severity, f.resource.name) == ("NET010", Severity.HIGH, "vpn")
    assert f.message == (
        "vpn runs privileged and can reconfigure its network stack, sniff and spoof traffic and load "
        "kernel modules, next to other containers on appnet."
    )


def test_privileged_with_host_network_is_critical():
    [f] = run_rule(RULE, snapshot(container("fw", privileged=True, networks=(), network_mode="host")))
    assert f.severity is Severity.CRITICAL
    assert f.message == (
        "fw runs privileged in the host's network namespace: it controls the host's interfaces, routes and firewall."
    )


def test_points_at_the_privileged_line():
    line = origin("compose.yaml", 9, SourceKind.COMPOSE)
    c = replace(container("vpn", privileged=True, compose=True), privileged_origin=line)
    [f] = run_rule(RULE, snapshot(c))
    assert (f.location.uri, f.location.line) == ("compose.yaml", 9)


def test_not_privileged_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(container("a"), container("b", privileged=None))) == []
