"""HOST001: Docker API on TCP without TLS."""

from __future__ import annotations

from auditor.rules.host001_tcp_api import RULE
from support.builders import run_rule, snapshot

from auditor.model.records import DaemonFacts
from auditor.model.severity import Severity


def test_public_listener_is_critical():
    daemon = DaemonFacts(tcp_api_without_tls=True, tcp_api_endpoints=("http://0.0.0.0:2375",))
    [f] = run_rule(RULE, snapshot(daemon=daemon))
    assert (f.rule_id, f.resource.kind, f.resource.name, f.severity) == (
        "HOST001",
        "host",
        "testhost",
        Severity.CRITICAL,
    )
    assert f.message == (
        "The Docker API listens on http://0.0.0.0:2375 without TLS client verification: "
        "anyone who can reach it gets root on the host."
    )


def test_loopback_only_listener_is_high():
    daemon = DaemonFacts(
        tcp_api_without_tls=True, tcp_api_endpoints=("tcp://127.0.0.1:2375", "tcp://[::1]:2375")
    )
    [f] = run_rule(RULE, snapshot(daemon=daemon))
    assert f.severity is Severity.HIGH
    assert "only loopback" in f.message


def test_tls_or_unknown_is_silent():
    assert run_rule(RULE, snapshot(daemon=DaemonFacts(tcp_api_without_tls=False))) == []
    assert run_rule(RULE, snapshot(daemon=DaemonFacts())) == []


def test_endpoint_unknown_is_still_critical():
    [f] = run_rule(RULE, snapshot(daemon=DaemonFacts(tcp_api_without_tls=True)))
    assert f.severity is Severity.CRITICAL
    assert f.message.startswith("The Docker API listens on a TCP address without TLS client verification")
