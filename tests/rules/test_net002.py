"""NET002: unrelated workloads share a user-defined network."""

from __future__ import annotations

from auditor.rules.net002_shared_network import RULE
from support.builders import DEFAULT_BRIDGE, container, network, run_rule, snapshot

from auditor.model.severity import Severity


def test_two_projects_on_one_network():
    snap = snapshot(
        container("shop-web-1", project="shop", networks=("proxy",)),
        container("blog-app-1", project="blog", networks=("proxy",)),
        container("traefik", networks=("proxy",)),
    )
    [f] = run_rule(RULE, snap)
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("NET002", "network", "proxy")
    assert f.message == (
        "network proxy is shared by project blog (blog-app-1), project shop (shop-web-1) "
        "and standalone containers (traefik)."
    )


def test_project_network_joined_from_outside():
    net = network("shop_default", project="shop")
    snap = snapshot(
        container("shop-db-1", project="shop", networks=("shop_default",)),
        container("debug", networks=("shop_default",)),
        networks=(DEFAULT_BRIDGE, net),
    )
    [f] = run_rule(RULE, snap)
    assert f.message == (
        "network shop_default (created by project shop) is shared by project shop (shop-db-1) "
        "and standalone containers (debug)."
    )
    only_outsider = snapshot(container("debug", networks=("shop_default",)), networks=(DEFAULT_BRIDGE, net))
    [f] = run_rule(RULE, only_outsider)
    assert (
        f.message
        == "network shop_default (created by project shop) is shared by standalone containers (debug)."
    )


def test_one_project_or_only_standalone_is_silent():
    net = network("shop_default", project="shop")
    snap = snapshot(
        container("shop-web-1", project="shop", networks=("shop_default",)),
        container("shop-db-1", project="shop", networks=("shop_default",)),
        networks=(DEFAULT_BRIDGE, net),
    )
    assert run_rule(RULE, snap) == []
    assert (
        run_rule(RULE, snapshot(container("a", networks=("tools",)), container("b", networks=("tools",))))
        == []
    )


def test_default_bridge_is_left_to_net001():
    snap = snapshot(
        container("a", project="x", networks=("bridge",)), container("b", project="y", networks=("bridge",))
    )
    assert run_rule(RULE, snap) == []


def test_backend_reachable_from_another_project_escalates_to_high():
    snap = snapshot(
        container("shop-db-1", image="postgres:16", project="shop", networks=("proxy",)),
        container("blog-app-1", project="blog", networks=("proxy",)),
    )
    [f] = run_rule(RULE, snap)
    assert f.severity is Severity.HIGH
    assert f.message == (
        "network proxy is shared by project blog (blog-app-1) and project shop (shop-db-1). "
        "Backend services shop-db-1 (PostgreSQL) are reachable from the other workloads, so this is high."
    )


def test_without_backends_severity_stays_medium():
    snap = snapshot(
        container("a", project="x", networks=("n",)), container("b", project="y", networks=("n",))
    )
    [f] = run_rule(RULE, snap)
    assert f.severity is Severity.MEDIUM


def test_networks_that_keep_members_apart_are_not_shared():
    from dataclasses import replace

    members = (
        container("shop-web-1", project="shop", networks=("ingress", "docker_gwbridge")),
        container("blog-app-1", project="blog", networks=("ingress", "docker_gwbridge")),
    )
    ingress = replace(network("ingress", driver="overlay", scope="swarm"), ingress=True)
    gwbridge = network("docker_gwbridge", options={"com.docker.network.bridge.enable_icc": "false"})
    assert run_rule(RULE, snapshot(*members, networks=(DEFAULT_BRIDGE, ingress, gwbridge))) == []
    talking = network("docker_gwbridge", options={"com.docker.network.bridge.enable_icc": "true"})
    [f] = run_rule(RULE, snapshot(*members, networks=(DEFAULT_BRIDGE, ingress, talking)))
    assert f.resource.name == "docker_gwbridge"
