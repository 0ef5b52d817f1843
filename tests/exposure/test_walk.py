"""Chain walking in three-valued logic: first match, jumps, gotos, returns, policies."""

from __future__ import annotations

import ipaddress

from auditor.exposure.iptables import parse_iptables_save
from auditor.exposure.matrix import render_trace
from auditor.exposure.packet import Context, first_packet, reply_to, with_dnat
from auditor.exposure.walk import Flow, walk_table


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


LAN_SYN = first_packet(4, "tcp", ip("198.18.0.254"), 40000, ip("198.18.0.1"), 15432, "eth0")
FORWARDED = with_dnat(LAN_SYN, ip("198.18.16.2"), 5432)


def forward(pkt=FORWARDED, oif="docker0"):
    return pkt._replace(oif=oif)


def table(rules: str, chains: str = "", policy: str = "ACCEPT"):
    text = f"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD {policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n{chains}{rules}COMMIT\n"
    return parse_iptables_save(text).table("filter")


def verdicts(t, pkt, chain="FORWARD"):
    return [
        (b.verdict, render_trace(b.flow.steps), sorted(b.flow.undecided))
        for b in walk_table(t, chain, Flow(pkt), Context())
    ]


def test_first_match_wins_and_policy_applies_at_the_end():
    t = table("-A FORWARD -p udp -j ACCEPT\n-A FORWARD -o docker0 -j DROP\n-A FORWARD -j ACCEPT\n")
    assert verdicts(t, forward()) == [("DROP", "filter FORWARD rule 2 DROP", [])]
    assert verdicts(t, forward(oif="eth1")) == [("ACCEPT", "filter FORWARD rule 3 ACCEPT", [])]
    t = table("-A FORWARD -p udp -j ACCEPT\n", policy="DROP")
    assert verdicts(t, forward()) == [("DROP", "filter FORWARD policy DROP", [])]


def test_jump_returns_and_goto_does_not():
    chains = ":A - [0:0]\n:B - [0:0]\n"
    t = table("-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -g B\n-A A -j ACCEPT\n-A B -j RETURN\n", chains)
    # B's RETURN returns from A (the chain that did the goto), so FORWARD rule 2 decides.
    assert verdicts(t, forward()) == [
        ("DROP", "filter FORWARD rule 1 -> A rule 1 goto B -> B rule 1 RETURN -> FORWARD rule 2 DROP", [])
    ]
    t = table("-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -j B\n-A A -j ACCEPT\n-A B -j RETURN\n", chains)
    assert verdicts(t, forward()) == [
        ("ACCEPT", "filter FORWARD rule 1 -> A rule 1 -> B rule 1 RETURN -> A rule 2 ACCEPT", [])
    ]


def test_dport_after_dnat_versus_ctorigdstport():
    t = table(
        "-A FORWARD -j DOCKER-USER\n-A FORWARD -j ACCEPT\n"
        "-A DOCKER-USER -p tcp -m tcp --dport 15432 -j DROP\n"
        "-A DOCKER-USER -j RETURN\n",
        ":DOCKER-USER - [0:0]\n",
    )
    assert verdicts(t, forward())[0][0] == "ACCEPT"  # the packet's port is 5432 after DNAT
    t = table(
        "-A FORWARD -j DOCKER-USER\n-A FORWARD -j ACCEPT\n"
        "-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 15432 -j DROP\n"
        "-A DOCKER-USER -j RETURN\n",
        ":DOCKER-USER - [0:0]\n",
    )
    assert verdicts(t, forward()) == [("DROP", "filter FORWARD rule 1 -> DOCKER-USER rule 1 DROP", [])]


def test_an_undecided_drop_makes_two_answers():
    t = table("-A FORWARD -m recent --rcheck -j DROP\n-A FORWARD -j ACCEPT\n")
    assert verdicts(t, forward()) == [
        ("DROP", "filter FORWARD rule 1 DROP (undecided)", ["filter FORWARD rule 1"]),
        ("ACCEPT", "filter FORWARD rule 2 ACCEPT", ["filter FORWARD rule 1"]),
    ]


def test_an_undecided_rule_that_cannot_change_the_outcome_is_harmless():
    t = table("-A FORWARD -m recent --rcheck -j ACCEPT\n-A FORWARD -o docker0 -j ACCEPT\n", policy="DROP")
    assert verdicts(t, forward()) == [
        ("ACCEPT", "filter FORWARD rule 1 ACCEPT (undecided)", ["filter FORWARD rule 1"])
    ]
    # ... but it does matter for a packet the later rule would not accept.
    assert sorted(v for v, _, _ in verdicts(t, forward(oif="eth1"))) == ["ACCEPT", "DROP"]
    # A known false match beats an unknown one in the same rule.
    t = table("-A FORWARD -p udp -m recent --rcheck -j DROP\n")
    assert verdicts(t, forward()) == [("ACCEPT", "filter FORWARD policy ACCEPT", [])]


def test_unknown_target_and_missing_chain():
    t = table("-A FORWARD -j NFQUEUE --queue-num 3\n")
    ((verdict, trace, _),) = verdicts(t, forward())
    assert (verdict, trace) == ("UNKNOWN", "filter FORWARD rule 1 NFQUEUE")
    branch = walk_table(t, "FORWARD", Flow(forward()), Context())[0]
    assert branch.flow.reasons == ("filter FORWARD rule 1: target NFQUEUE not modelled",)


def test_established_rules_do_not_match_the_first_packet_but_match_the_reply():
    t = table("-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n", policy="DROP")
    assert verdicts(t, forward())[0][0] == "DROP"
    reply = reply_to(forward(), iif="docker0", bridged=False)
    assert (
        reply.ctstate == "ESTABLISHED" and reply.src == ip("198.18.16.2") and reply.dst == ip("198.18.0.254")
    )
    assert verdicts(t, reply)[0][0] == "ACCEPT"


def test_ctstate_dnat_and_ctdir():
    t = table("-A FORWARD -m conntrack --ctstate DNAT --ctdir ORIGINAL -j DROP\n")
    assert verdicts(t, forward())[0][0] == "DROP"
    assert verdicts(t, forward(pkt=LAN_SYN, oif="lo"))[0][0] == "ACCEPT"


def test_notrack_in_raw_continues_with_an_untracked_packet():
    text = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j CT --notrack\n-A PREROUTING -m conntrack --ctstate UNTRACKED -j DROP\nCOMMIT\n"
    raw = parse_iptables_save(text).table("raw")
    assert verdicts(raw, LAN_SYN, "PREROUTING") == [
        ("DROP", "raw PREROUTING rule 1 CT -> PREROUTING rule 2 DROP", [])
    ]


def test_deep_recursion_is_unknown_not_a_crash():
    chains = "".join(f":C{i} - [0:0]\n" for i in range(80))
    rules = "-A FORWARD -j C0\n" + "".join(f"-A C{i} -j C{i + 1}\n" for i in range(79))
    ((verdict, _, _),) = verdicts(table(rules, chains), forward())
    assert verdict == "UNKNOWN"
