"""NET006: backend-only networks that are not internal."""

from __future__ import annotations

from auditor.rules.net006_backend_not_internal import RULE
from support.builders import DEFAULT_BRIDGE, container, network, port, run_rule, snapshot


def test_datastores_only_network_fires():
    snap = snapshot(
        container("db", image="postgres:16", networks=("backend",)),
        container("cache", image="acme/cache", networks=("backend",), ports=[port(6379, published=False)]),
    )
    [f] = run_rule(RULE, snap)
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("NET006", "network", "backend")
    assert (
        f.message
        == "network backend holds only backend services (cache (Redis), db (PostgreSQL)) but is not internal."
    )


def test_internal_network_or_unknown_internal_is_silent():
    db = container("db", image="postgres:16", networks=("backend",))
    assert run_rule(RULE, snapshot(db, networks=(DEFAULT_BRIDGE, network("backend", internal=True)))) == []
    assert run_rule(RULE, snapshot(db, networks=(DEFAULT_BRIDGE, network("backend", internal=None)))) == []


def test_network_with_an_application_is_silent():
    snap = snapshot(
        container("db", image="mysql:8", networks=("app",)),
        container("web", image="nginx", networks=("app",)),
    )
    assert run_rule(RULE, snap) == []


def test_default_bridge_and_empty_networks_are_silent():
    assert run_rule(RULE, snapshot(container("db", image="redis", networks=("bridge",)))) == []
    assert run_rule(RULE, snapshot(networks=(DEFAULT_BRIDGE, network("empty")))) == []
