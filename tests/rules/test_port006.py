"""PORT006: privileged host ports published beyond loopback."""

from __future__ import annotations

from auditor.rules.port006_privileged_port import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model.severity import Severity


def test_host_port_below_1024_on_an_address_fires():
    c = container("web", ports=[port(8080, 80, host_ip="10.0.0.5")])
    [f] = run_rule(RULE, snapshot(c))
    assert (f.rule_id, f.resource.name, f.severity) == ("PORT006", "web", Severity.INFO)
    assert f.message == "web publishes privileged host port 80/tcp (container port 8080) on 10.0.0.5."


def test_on_all_interfaces_it_is_port001s_finding():
    """One finding per entry: PORT001 names the privileged port of a wildcard entry."""
    c = container("web", ports=[port(8080, 80), port(8080, 80, host_ip="::")])
    assert run_rule(RULE, snapshot(c)) == []


def test_container_port_below_1024_on_high_host_port_is_silent():
    assert run_rule(RULE, snapshot(container("web", ports=[port(80, 8080)]))) == []


def test_loopback_and_boundary():
    c = container("web", ports=[port(443, 443, host_ip="127.0.0.1"), port(1024, 1024)])
    assert run_rule(RULE, snapshot(c)) == []


def test_ipv6_address_and_range_starting_low():
    c = container(
        "a",
        ports=[
            port(53, 53, host_ip="2001:db8::1", protocol="udp"),
            port(1000, 1000, host_ip="10.0.0.5", host_port_end=1100),
        ],
    )
    findings = run_rule(RULE, snapshot(c))
    assert sorted(f.message for f in findings) == [
        "a publishes privileged host port 1000/tcp (container port 1000) on 10.0.0.5.",
        "a publishes privileged host port 53/udp (container port 53) on 2001:db8::1.",
    ]
