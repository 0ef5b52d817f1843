"""PORT002: sensitive services reachable beyond loopback."""

from __future__ import annotations

from auditor.rules.port002_sensitive_service import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model.severity import Severity


def test_unauthenticated_datastore_on_wildcard_is_critical():
    [f] = run_rule(RULE, snapshot(container("cache", image="redis:7", ports=[port(6379)])))
    assert (f.rule_id, f.resource.name, f.severity) == ("PORT002", "cache", Severity.CRITICAL)
    assert f.message == (
        "cache exposes Redis (datastore) on all interfaces as *:6379->6379/tcp. "
        "It accepts unauthenticated connections by default, so exposure is critical."
    )


def test_authenticated_service_on_specific_address_is_high():
    [f] = run_rule(RULE, snapshot(container("db", image="postgres:16", ports=[port(5432, host_ip="10.0.0.5")])))
    assert f.severity is Severity.HIGH
    assert f.message == "db exposes PostgreSQL (datastore) on 10.0.0.5 as 10.0.0.5:5432->5432/tcp."


def test_recognised_by_container_port_not_host_port():
    [f] = run_rule(RULE, snapshot(container("x", image="acme/thing", ports=[port(27017, 8080)])))
    assert "MongoDB" in f.message
    assert run_rule(RULE, snapshot(container("y", image="acme/thing", ports=[port(8081, 27017)]))) == []


def test_silent_on_loopback_ipv4_and_ipv6():
    c = container("cache", image="redis", ports=[port(6379, host_ip="127.0.0.1"), port(6379, host_ip="::1")])
    assert run_rule(RULE, snapshot(c)) == []


def test_ambiguous_web_port_needs_the_image():
    assert run_rule(RULE, snapshot(container("app", image="acme/web", ports=[port(8080)]))) == []
    [f] = run_rule(RULE, snapshot(container("ci", image="jenkins/jenkins:lts", ports=[port(8080)])))
    assert "Jenkins" in f.message


def test_dual_stack_wildcard_is_one_finding():
    c = container("cache", image="redis", ports=[port(6379), port(6379, host_ip="::")])
    assert len(run_rule(RULE, snapshot(c))) == 1
