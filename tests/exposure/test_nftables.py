"""nft -j list ruleset: compatibility tables are left to iptables-save, others translated."""

from __future__ import annotations

import ipaddress
import json

import pytest
from support.exposure_fixtures import FIXTURES

from auditor.exposure.matches import (
    Addr,
    AddrType,
    All,
    AnyOf,
    CtState,
    Family,
    Iface,
    Ports,
    Proto,
    Tracked,
    Unknown,
)
from auditor.exposure.nftables import BaseChain, parse_nft_json
from auditor.exposure.packet import Context, first_packet, with_dnat
from auditor.exposure.walk import Flow, walk_table

HANDWRITTEN = (FIXTURES / "nft-handwritten.json").read_text()


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def test_docker_on_iptables_nft_has_no_foreign_table():
    nft = parse_nft_json((FIXTURES / "default" / "nft.json").read_text())
    assert nft.foreign == ()
    assert sorted(nft.compat) == [("ip", "filter"), ("ip", "nat")]


def test_with_the_legacy_back_end_every_table_is_foreign():
    nft = parse_nft_json((FIXTURES / "default" / "nft.json").read_text(), iptables_nft=False)
    assert sorted(f.name for f in nft.foreign) == ["filter", "nat"]


def test_handwritten_tables_are_translated():
    nft = parse_nft_json(HANDWRITTEN)
    assert [(f.family, f.name) for f in nft.foreign] == [("inet", "filter"), ("ip", "mynat")]
    inet = nft.foreign[0]
    assert inet.base_chains == (
        BaseChain("inet", "filter", "input", "input", 0, "filter", "ACCEPT"),
        BaseChain("inet", "filter", "forward", "forward", 0, "filter", "ACCEPT"),
        BaseChain("inet", "filter", "output", "output", 0, "filter", "ACCEPT"),
    )
    rules = inet.table.chain("forward").rules
    assert rules[0].matches == (CtState(frozenset({"ESTABLISHED", "RELATED"}), False),)
    assert rules[0].target.kind == "ACCEPT"
    assert rules[1].matches == (
        Iface(False, "eth", True, False),
        AnyOf((Iface(True, "lo", False, False),), True),
        Ports("dport", ((22, 22), (8000, 8100)), False, "tcp"),
    )
    assert rules[2].matches == (
        All(
            (
                Family(4, False),
                AnyOf(
                    (
                        Addr("src", 4, ip("198.18.0.0"), 0xFFFFFF00, False),
                        Addr("src", 4, ip("198.19.1.5"), 0xFFFFFFFF, False),
                    ),
                    False,
                ),
            )
        ),
    )
    assert (rules[3].target.kind, rules[3].target.name) == ("DROP", "REJECT")
    assert rules[4].matches == (Family(6, False),) and rules[4].target.chain == "v6"
    assert rules[5].matches == (
        Tracked(Addr("orig_dst", 4, ip("198.18.0.1"), 0xFFFFFFFF, False)),
        Proto("tcp", False),
        Tracked(Ports("orig_dport", ((15432, 15432),), False)),
    )
    assert rules[6].matches == (AddrType("dst", frozenset({"LOCAL"}), False),)
    assert rules[7].matches == (Unknown('nft limit {"burst":5,"per":"second","rate":10}'),)
    assert rules[7].target.kind == "ACCEPT"
    assert rules[8].matches[1] == CtState(frozenset({"DNAT"}), False)
    mynat = nft.foreign[1]
    dnat = mynat.table.chain("pre").rules[0]
    assert (dnat.target.kind, dnat.target.to_addr, dnat.target.to_port) == ("DNAT", ip("198.18.16.9"), 80)
    assert [b.hook for b in nft.opaque] == ["forward"] and nft.opaque[0].family == "bridge"


def _forward_verdict(nft, pkt):
    inet = nft.foreign[0]
    return [
        (b.verdict, sorted(b.flow.undecided)) for b in walk_table(inet.table, "forward", Flow(pkt), Context())
    ]


def test_translated_rules_decide_packets():
    nft = parse_nft_json(HANDWRITTEN)
    lan = first_packet(4, "tcp", ip("198.18.0.9"), 40000, ip("198.18.16.2"), 8050, "eth0")
    assert _forward_verdict(nft, lan._replace(oif="docker0")) == [("DROP", [])]  # dport set {22, 8000-8100}
    allowed = first_packet(4, "tcp", ip("198.19.1.5"), 40000, ip("198.18.16.2"), 80, "eth1")._replace(
        oif="docker0"
    )
    assert _forward_verdict(nft, allowed) == [("ACCEPT", [])]  # ip saddr @allowed
    dnat = with_dnat(
        first_packet(4, "tcp", ip("203.0.113.9"), 1, ip("198.18.0.1"), 15432, "eth1"), ip("198.18.16.3"), 80
    )
    assert _forward_verdict(nft, dnat._replace(oif="docker0")) == [
        ("DROP", [])
    ]  # ct original proto-dst 15432
    other = first_packet(4, "tcp", ip("203.0.113.9"), 1, ip("198.18.16.3"), 80, "eth1")._replace(
        oif="docker0"
    )
    # Only the rate limit is undecided: accepted by it, or by the policy after it.
    assert _forward_verdict(nft, other) == [("ACCEPT", ["inet filter forward rule 8"])]
    v6 = first_packet(6, "tcp", ip("2001:2::9"), 1, ip("2001:2:0:d0::2"), 80, "eth0")._replace(oif="docker0")
    assert _forward_verdict(nft, v6) == [
        ("ACCEPT", ["inet filter forward rule 8"])
    ]  # v6 chain returns for 2001:2::/48
    v6_other = v6._replace(src=ip("2001:db8::1"), orig_src=ip("2001:db8::1"))
    assert _forward_verdict(nft, v6_other) == [("DROP", [])]


@pytest.mark.parametrize(
    "doc",
    [
        "{}",
        "[]",
        '{"nftables": [1, {"rule": {"expr": [{"weird": 1}]}}]}',
        '{"nftables": [{"table": {"family": "inet", "name": "x"}}, {"chain": {"family": "inet", "table": "x", "name": "c", "hook": "forward", "prio": "filter"}}]}',
    ],
)
def test_odd_documents_do_not_crash(doc):
    parse_nft_json(doc)


def test_match_translation_corners():
    from auditor.exposure.nftables import translate_match

    m = translate_match({"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}, (4,), {})
    assert m == Proto("udp", False)
    m = translate_match(
        {"op": ">=", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 1024}, (4,), {}
    )
    assert m == Ports("dport", ((1024, 65535),), False, "tcp")
    m = translate_match({"op": "==", "left": {"socket": {"key": "transparent"}}, "right": 1}, (4,), {})
    assert isinstance(m, Unknown)
    m = translate_match(
        {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@nosuchset"},
        (4,),
        {},
    )
    assert isinstance(m, Unknown)
    assert json.loads(HANDWRITTEN)["nftables"][0]["metainfo"]["json_schema_version"] == 1
