"""NET004: a container joins another's network namespace."""

from __future__ import annotations

from auditor.rules.net004_shared_namespace import RULE
from support.builders import container, run_rule, snapshot


def test_container_mode_names_the_other_by_name_not_id():
    vpn = container("vpn")
    app = container("app", networks=(), network_mode="container:id-vpn")
    [f] = run_rule(RULE, snapshot(vpn, app))
    assert (f.rule_id, f.resource.name) == ("NET004", "app")
    assert f.message == "app shares the network namespace of vpn."
    assert f.evidence == (("network_mode", "container:vpn"),)


def test_unknown_target_and_compose_service_mode():
    [f] = run_rule(RULE, snapshot(container("app", networks=(), network_mode="container:gone")))
    assert f.message == "app shares the network namespace of gone."
    [f] = run_rule(RULE, snapshot(container("web", compose=True, networks=(), network_mode="service:vpn")))
    assert (f.resource.kind, f.message) == ("service", "web shares the network namespace of vpn.")


def test_silent_for_ordinary_modes():
    snap = snapshot(container("a"), container("b", networks=("host",), network_mode="host"))
    assert run_rule(RULE, snap) == []
