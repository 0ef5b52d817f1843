"""PORT007: two containers or services claim the same host address, port and protocol."""

from __future__ import annotations

from auditor.rules.port007_port_conflict import RULE, addresses_overlap, bindings_clash
from support.builders import container, port, run_rule, snapshot

from auditor.model.records import PortBinding


def _messages(*containers):
    return sorted(f.message for f in run_rule(RULE, snapshot(*containers)))


def test_same_wildcard_port_clashes_for_both():
    findings = run_rule(
        RULE, snapshot(container("a", ports=[port(80, 8080)]), container("b", ports=[port(81, 8080)]))
    )
    assert sorted((f.rule_id, f.resource.name, f.message) for f in findings) == [
        (
            "PORT007",
            "a",
            "a claims host port 0.0.0.0:8080->80/tcp, which b (0.0.0.0:8080->81/tcp) also claims.",
        ),
        (
            "PORT007",
            "b",
            "b claims host port 0.0.0.0:8080->81/tcp, which a (0.0.0.0:8080->80/tcp) also claims.",
        ),
    ]


def test_wildcard_overlaps_specific_ipv4_but_not_ipv6():
    assert (
        len(
            _messages(
                container("a", ports=[port(80, 8080)]),
                container("b", ports=[port(80, 8080, host_ip="127.0.0.1")]),
            )
        )
        == 2
    )
    assert (
        _messages(
            container("a", ports=[port(80, 8080)]), container("b", ports=[port(80, 8080, host_ip="::1")])
        )
        == []
    )


def test_ipv6_wildcard_and_empty_host_ip():
    assert (
        len(
            _messages(
                container("a", ports=[port(80, 8080, host_ip="::")]),
                container("b", ports=[port(80, 8080, host_ip="::1")]),
            )
        )
        == 2
    )
    assert (
        len(
            _messages(
                container("a", ports=[port(80, 8080, host_ip="")]),
                container("b", ports=[port(80, 8080, host_ip="::1")]),
            )
        )
        == 2
    )


def test_different_addresses_protocols_or_ports_do_not_clash():
    assert (
        _messages(
            container("a", ports=[port(80, 8080, host_ip="127.0.0.1"), port(53, 53, protocol="udp")]),
            container(
                "b", ports=[port(80, 8080, host_ip="127.0.0.2"), port(53, 53, protocol="tcp"), port(80, 8081)]
            ),
        )
        == []
    )


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
    assert sorted((f.resource.kind, f.resource.name) for f in findings) == [
        ("service", "api"),
        ("service", "web"),
    ]


def test_address_overlap_helper():
    assert addresses_overlap("0.0.0.0", "192.0.2.1")
    assert not addresses_overlap("0.0.0.0", "::")
    assert addresses_overlap("::", "2001:db8::1")
    assert addresses_overlap("", "0.0.0.0")
    assert not addresses_overlap("10.0.0.1", "10.0.0.2")


def _pairwise(snap) -> list[str]:
    """The rule's meaning, written the slow way: every claim against every other."""
    from auditor.rules._helpers import name_of, port_key

    claims = [(c, p) for c in snap.containers for p in c.published_ports if p.host_port is not None]
    out, reported = [], set()
    for c, p in claims:
        others = sorted(
            {f"{name_of(o)} ({q.display()})" for o, q in claims if o.name != c.name and bindings_clash(p, q)}
        )
        key = f"{port_key(p)}:{p.host_port}"
        if others and (c.name, key) not in reported:
            reported.add((c.name, key))
            verb = "claims" if len(others) == 1 else "claim"
            out.append(
                f"{name_of(c)} claims host port {p.display()}, which {' and '.join(others)} also {verb}."
            )
    return sorted(out)


def test_indexed_search_says_what_the_pairwise_comparison_says():
    """Random small snapshots (ranges, families, odd addresses): the sorted-lane search that
    replaced the all-pairs loop finds exactly the clashes the pairwise definition finds."""
    import random

    rng = random.Random(7)
    ips = [
        "",
        "0.0.0.0",
        "::",
        "127.0.0.1",
        "127.0.0.2",
        "::1",
        "0:0::1",
        "localhost",
        "not-an-ip",
        "10.0.0.1",
    ]
    for _ in range(300):
        containers = []
        for n in range(rng.randint(1, 6)):
            ports = []
            for _ in range(rng.randint(0, 4)):
                start = rng.randint(1, 30)
                end = start + rng.choice([0, 0, 0, 1, 5, 20])
                ports.append(
                    port(
                        rng.randint(1, 3),
                        start,
                        host_ip=rng.choice(ips),
                        protocol=rng.choice(["tcp", "udp"]),
                        host_port_end=end if end > start else None,
                    )
                )
            containers.append(container(rng.choice(["a", "b", "c", "d", f"x{n}"]), ports=ports))
        snap = snapshot(*containers)
        assert _messages(*containers) == _pairwise(snap)


def test_many_claimants_are_counted_not_all_listed():
    containers = [container(f"c{i:02}", ports=[port(80, 8080)]) for i in range(15)]
    findings = run_rule(RULE, snapshot(*containers))
    assert len(findings) == 15
    first = next(f for f in findings if f.resource.name == "c00")
    shown = ", ".join(f"c{i:02} (0.0.0.0:8080->80/tcp)" for i in range(1, 11))
    assert first.message == f"c00 claims host port 0.0.0.0:8080->80/tcp, which {shown} and 4 more also claim."
    assert dict(first.evidence)["also_claimed_by"].endswith("c10 (0.0.0.0:8080->80/tcp); and 4 more")
