"""PORT005: amplification-prone UDP services."""

from __future__ import annotations

from auditor.rules.port005_udp_amplification import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_dns_on_wildcard_fires():
    c = container("dns", ports=[port(53, protocol="udp"), port(53, protocol="udp", host_ip="::")])
    [f] = run_rule(RULE, snapshot(c))
    assert (f.rule_id, f.resource.name) == ("PORT005", "dns")
    assert f.message == (
        "dns publishes DNS (53/udp) on all interfaces: replies can be 28-54x larger than requests, "
        "usable for reflected DDoS."
    )


def test_memcached_on_specific_lan_address_fires():
    [f] = run_rule(RULE, snapshot(container("mc", ports=[port(11211, host_ip="192.0.2.7", protocol="udp")])))
    assert f.message.startswith("mc publishes memcached (11211/udp) on 192.0.2.7:")


def test_tcp_and_loopback_are_silent():
    c = container(
        "dns",
        ports=[
            port(53, protocol="tcp"),
            port(123, protocol="udp", host_ip="127.0.0.1"),
            port(161, protocol="udp", host_ip="::1"),
        ],
    )
    assert run_rule(RULE, snapshot(c)) == []


def test_recognised_by_container_port_not_host_port():
    assert run_rule(RULE, snapshot(container("a", ports=[port(5000, 53, protocol="udp")]))) == []
    [f] = run_rule(RULE, snapshot(container("b", ports=[port(123, 10123, protocol="udp")])))
    assert "NTP (123/udp)" in f.message


def test_empty_host_ip_with_loopback_daemon_default_is_silent():
    snap = snapshot(
        container("ntp", ports=[port(123, protocol="udp", host_ip="")]),
        daemon=DaemonFacts(default_bind_ip="127.0.0.1"),
    )
    assert run_rule(RULE, snap) == []
