"""PORT001: ports published on all interfaces."""

from __future__ import annotations

from auditor.rules.port001_all_interfaces import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model import DaemonFacts


def test_fires_on_ipv4_wildcard():
    [f] = run_rule(RULE, snapshot(container("web", ports=[port(80, 8080)])))
    assert (f.rule_id, f.resource.name) == ("PORT001", "web")
    assert f.message == "web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0)."


def test_ipv4_and_ipv6_wildcards_are_one_finding():
    c = container("web", ports=[port(80, 8080), port(80, 8080, host_ip="::")])
    [f] = run_rule(RULE, snapshot(c))
    assert f.message == (
        "web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0) and all IPv6 interfaces (::)."
    )


def test_empty_host_ip_means_all_interfaces():
    [f] = run_rule(RULE, snapshot(container("web", ports=[port(80, None, host_ip="", published=True)])))
    assert f.message == "web publishes 80/tcp on host port 80 of all interfaces (no host IP given)."


def test_silent_on_loopback_specific_address_and_exposed_only():
    c = container(
        "web",
        ports=[port(80, 8080, host_ip="127.0.0.1"), port(81, host_ip="192.0.2.10"), port(82, published=False)],
    )
    assert run_rule(RULE, snapshot(c)) == []


def test_daemon_ip_narrows_empty_host_ip():
    snap = snapshot(container("web", ports=[port(80, 8080, host_ip="")]), daemon=DaemonFacts(default_bind_ip="127.0.0.1"))
    assert run_rule(RULE, snap) == []


def test_ports_of_a_host_network_service_are_discarded_like_docker_does():
    host_mode = container("web", ports=[port(80, host_ip="")], network_mode="host", networks=(), compose=True)
    assert run_rule(RULE, snapshot(host_mode)) == []
