"""HOST003: published ports bypass UFW/firewalld."""

from __future__ import annotations

from auditor.rules.host003_firewall_bypass import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model.records import DaemonFacts

WEB = container("web", ports=[port(80, 8080), port(80, 8080, host_ip="::")])


def test_ufw_active_without_docker_user_rules():
    daemon = DaemonFacts(ufw_active=True, firewalld_active=False, docker_user_filters=False)
    [f] = run_rule(RULE, snapshot(WEB, daemon=daemon))
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("HOST003", "host", "testhost")
    assert f.message == (
        "UFW is active but DOCKER-USER has no filtering rules: 1 published port(s) bypass the firewall "
        "(web 0.0.0.0:8080->80/tcp)."
    )


def test_both_firewalls_and_many_ports():
    many = [container(f"c{i}", ports=[port(80, 8000 + i)]) for i in range(5)]
    daemon = DaemonFacts(ufw_active=True, firewalld_active=True, docker_user_filters=False)
    [f] = run_rule(RULE, snapshot(*many, daemon=daemon))
    assert f.message.startswith("UFW and firewalld are active but DOCKER-USER has no filtering rules: 5 published")
    assert f.message.endswith("and 2 more).")


def test_filtered_unknown_or_no_firewall_is_silent():
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts(ufw_active=True, docker_user_filters=True))) == []
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts(ufw_active=True))) == []
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts(ufw_active=False, firewalld_active=False, docker_user_filters=False))) == []
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts())) == []


def test_only_loopback_ports_is_silent():
    c = container("db", ports=[port(5432, host_ip="127.0.0.1")])
    daemon = DaemonFacts(firewalld_active=True, docker_user_filters=False)
    assert run_rule(RULE, snapshot(c, daemon=daemon)) == []
