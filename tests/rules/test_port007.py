"""PORT007: two containers or services claim the same host address, port and protocol."""

from __future__ import annotations

from auditor.rules.port007_port_conflict import RULE, addresses_overlap
from support.builders import container, port, run_rule, snapshot

from auditor.model.records import PortBinding


def _messages(*containers):
    return sorted(f.message for f in run_rule(RULE, snapshot(*containers)))


def test_same_wildcard_port_clashes_for_both():
    findings = run_rule(RULE, snapshot(container("a", ports=[port(80, 8080)]), container("b", ports=[port(81, 8080)])))
    assert sorted((f.rule_id, f.resource.name, f.message) for f in findings) == [
        ("PORT007", "a", "a claims host port 0.0.0.0:8080->80/tcp, which b (0.0.0.0:8080->81/tcp) also claims."),
        ("PORT007", "b", "b claims host port 0.0.0.0:8080->81/tcp, which a (0.0.0.0:8080->80/tcp) also claims."),
    ]


def test_wildcard_overlaps_specific_ipv4_but_not_ipv6():
    assert len(_messages(container("a", ports=[port(80, 8080)]), container("b", ports=[port(80, 8080, host_ip="127.0.0.1")]))) == 2
    assert _messages(container("a", ports=[port(80, 8080)]), container("b", ports=[port(80, 8080, host_ip="::1")])) == []


def test_ipv6_wildcard_and_empty_host_ip():
    assert len(_messages(container("a", ports=[port(80, 8080, host_ip="::")]), container("b", ports=[port(80, 8080, host_ip="::1")]))) == 2
    assert len(_messages(container("a", ports=[port(80, 8080, host_ip="")]), container("b", ports=[port(80, 8080, host_ip="::1")]))) == 2


def test_different_addresses_protocols_or_ports_do_not_clash():
    assert _messages(
        container("a", ports=[port(80, 8080, host_ip="127.0.0.1"), port(53, 53, protocol="udp")]),
        container("b", ports=[port(80, 8080, host_ip="127.0.0.2"), port(53, 53, protocol="tcp"), port(80, 8081)]),
    ) == []


def test_ranges_overlap():
    msgs = _messages(
        container("a", ports=[port(5000, 5000, host_port_end=5010)]),
        container("b", ports=[port(80, 5010)]),
    )
    assert msgs == [
        "a claims host port 0.0.0.0:5000-5010->5000/tcp, which b (0.0.0.0:5010->80/tcp) also claims.",
        "b claims host port 0.0.0.0:5010->80/tcp, which a (0.0.0.0:5000-5010->5000/tcp) also claims.",
    ]


def test_ephemeral_ports_never_clash():
    eph = PortBinding(container_port=80, host_ip="0.0.0.0", host_port=None)
    assert _messages(container("a", ports=[eph]), container("b", ports=[eph])) == []


def test_one_container_dual_stack_is_not_a_clash_and_compose_services():
    a = container("a", ports=[port(80, 8080), port(80, 8080, host_ip="::")])
    assert _messages(a) == []
    web = container("web", compose=True, ports=[port(80, 8080, host_ip="")])
    api = container("api", compose=True, ports=[port(3000, 8080, host_ip="")])
    findings = run_rule(RULE, snapshot(web, api))
    assert sorted((f.resource.kind, f.resource.name) for f in findings) == [("service", "api"), ("service", "web")]


def test_address_overlap_helper():
    assert addresses_overlap("0.0.0.0", "192.0.2.1")
    assert not addresses_overlap("0.0.0.0", "::")
    assert addresses_overlap("::", "2001:db8::1")
    assert addresses_overlap("", "0.0.0.0")
    assert not addresses_overlap("10.0.0.1", "10.0.0.2")
