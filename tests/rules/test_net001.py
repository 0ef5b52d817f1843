"""NET001: containers on the default bridge."""

from __future__ import annotations

from auditor.rules.net001_default_bridge import RULE
from support.builders import container, run_rule, snapshot


def test_fires_for_container_on_bridge():
    [f] = run_rule(RULE, snapshot(container("web", networks=("bridge",), network_mode="default")))
    assert (f.rule_id, f.resource.name) == ("NET001", "web")
    assert f.message == "web is attached to the default bridge network."


def test_stopped_container_without_endpoints_in_default_mode():
    [f] = run_rule(RULE, snapshot(container("old", networks=(), network_mode="default", state="exited")))
    assert f.resource.name == "old"


def test_silent_on_user_network_host_and_none():
    snap = snapshot(
        container("a", networks=("appnet",)),
        container("b", networks=(), network_mode="host"),
        container("c", networks=(), network_mode="none"),
    )
    assert run_rule(RULE, snap) == []


def test_compose_service_with_network_mode_bridge():
    [f] = run_rule(RULE, snapshot(container("web", compose=True, networks=(), network_mode="bridge")))
    assert (f.resource.kind, f.resource.name) == ("service", "web")
