"""PORT008: loopback-published ports reachable from the local network."""

from __future__ import annotations

from auditor.rules.port008_loopback_reachable import RULE
from support.builders import container, network, port, run_rule, snapshot

from auditor.model.records import DaemonFacts
from auditor.model.severity import Severity

LOOPBACK_DB = container("db", ports=[port(5432, host_ip="127.0.0.1")])


def test_old_engine_fires():
    [f] = run_rule(RULE, snapshot(LOOPBACK_DB, daemon=DaemonFacts(server_version="20.10.24+dfsg1")))
    assert (f.rule_id, f.resource.name) == ("PORT008", "db")
    assert f.message == (
        "db publishes 127.0.0.1:5432->5432/tcp to loopback, but it is reachable from the local network: "
        "engine 20.10.24+dfsg1 is older than 28.0.0 (moby#45610)."
    )


def test_fixed_engine_is_silent_and_unknown_version_is_silent():
    assert run_rule(RULE, snapshot(LOOPBACK_DB, daemon=DaemonFacts(server_version="28.0.0"))) == []
    assert run_rule(RULE, snapshot(LOOPBACK_DB, daemon=DaemonFacts())) == []


def test_firewalld_regression_window():
    daemon = DaemonFacts(server_version="28.3.2", firewalld_active=True)
    [f] = run_rule(RULE, snapshot(LOOPBACK_DB, daemon=daemon))
    assert f.message.endswith("firewalld is active and engine 28.3.2 is older than 28.3.3 (CVE-2025-54388).")
    assert (
        run_rule(
            RULE, snapshot(LOOPBACK_DB, daemon=DaemonFacts(server_version="28.3.3", firewalld_active=True))
        )
        == []
    )
    assert (
        run_rule(
            RULE, snapshot(LOOPBACK_DB, daemon=DaemonFacts(server_version="28.3.2", firewalld_active=False))
        )
        == []
    )


def test_protection_turned_off():
    daemon = DaemonFacts(server_version="29.0.1", allow_direct_routing=True)
    [f] = run_rule(RULE, snapshot(LOOPBACK_DB, daemon=daemon))
    assert f.message.endswith("reachable from the local network: the daemon sets allow-direct-routing.")
    c = container("db", networks=("appnet",), ports=[port(5432, host_ip="127.0.0.1")])
    net = network("appnet", options={"com.docker.network.bridge.gateway_mode_ipv4": "nat-unprotected"})
    [f] = run_rule(RULE, snapshot(c, networks=(net,), daemon=DaemonFacts(server_version="29.0.1")))
    assert f.message.endswith("network appnet uses gateway mode nat-unprotected.")
    net = network("appnet", options={"com.docker.network.bridge.trusted_host_interfaces": "eth1"})
    [f] = run_rule(RULE, snapshot(c, networks=(net,), daemon=DaemonFacts(server_version="29.0.1")))
    assert f.message.endswith("network appnet trusts host interfaces eth1.")


def test_only_ipv4_loopback_bindings():
    c = container("web", ports=[port(80), port(81, host_ip="::1"), port(82, host_ip="192.0.2.1")])
    assert run_rule(RULE, snapshot(c, daemon=DaemonFacts(server_version="20.10.24"))) == []
    c = container("web", ports=[port(80, host_ip="127.0.0.2")])
    assert len(run_rule(RULE, snapshot(c, daemon=DaemonFacts(server_version="20.10.24")))) == 1


def test_unauthenticated_datastore_escalates_to_critical():
    c = container("cache", image="redis:7", ports=[port(6379, host_ip="127.0.0.1")])
    [f] = run_rule(RULE, snapshot(c, daemon=DaemonFacts(server_version="25.0.3")))
    assert f.severity is Severity.CRITICAL
    assert f.message == (
        "cache publishes 127.0.0.1:6379->6379/tcp to loopback, but it is reachable from the local network: "
        "engine 25.0.3 is older than 28.0.0 (moby#45610). It serves Redis, which accepts unauthenticated "
        "connections by default, so this is critical."
    )
    [f] = run_rule(RULE, snapshot(LOOPBACK_DB, daemon=DaemonFacts(server_version="25.0.3")))
    assert f.severity is Severity.HIGH  # PostgreSQL requires a password by default


def test_the_remediations_docker_user_rule_matches_the_address_before_dnat():
    """In FORWARD the destination is already the container's (DNAT ran in PREROUTING): a plain
    ``-d 127.0.0.0/8`` never matches there, as a lab engine showed with real packets; the
    original destination does (tests/lab/test_lab_daemon_rules.py runs this very command)."""
    import re

    commands = re.findall(r"`(iptables [^`]+)`", RULE.meta.remediation)
    assert commands == ["iptables -I DOCKER-USER -m conntrack --ctorigdst 127.0.0.0/8 ! -i lo -j DROP"]
