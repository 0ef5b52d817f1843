"""PORT003: every exposed port published with -P."""

from __future__ import annotations

from auditor.rules.port003_publish_all import RULE
from support.builders import container, port, run_rule, snapshot


def test_fires_with_the_exposed_ports_listed():
    c = container(
        "web", publish_all=True, ports=[port(443, 32768), port(80, 32769), port(80, 32769, host_ip="::")]
    )
    [f] = run_rule(RULE, snapshot(c))
    assert (f.rule_id, f.resource.name) == ("PORT003", "web")
    assert f.message == "web publishes every exposed port (-P): 80/tcp, 443/tcp."


def test_nothing_exposed_yet():
    [f] = run_rule(RULE, snapshot(container("web", publish_all=True)))
    assert f.message == "web publishes every exposed port (-P): none at present."


def test_silent_without_publish_all_or_when_unknown():
    assert run_rule(RULE, snapshot(container("a", publish_all=False, ports=[port(80)]))) == []
    assert run_rule(RULE, snapshot(container("b", publish_all=None, ports=[port(80)]))) == []


def test_compose_service_is_named_by_service():
    c = container(
        "shop-web-1", service="web", compose=True, publish_all=True, ports=[port(80, published=False)]
    )
    [f] = run_rule(RULE, snapshot(c))
    assert f.resource.name == "web"
    assert f.message == "web publishes every exposed port (-P): 80/tcp."
