"""Hypothesis strategies for iptables matches people write, over a host's own vocabulary
(interfaces, addresses, ports), for the random rule set tests of the exposure model."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

MATCH_KINDS = ("iif", "oif", "src", "dst", "proto", "dport", "multiport", "ctstate", "ctorig", "ctorigdst",
               "addrtype", "iprange", "comment")  # fmt: skip
CTSTATES = ("NEW", "RELATED,ESTABLISHED", "INVALID", "DNAT", "NEW,DNAT")


def _neg(draw) -> str:
    return "! " if draw(st.booleans()) else ""


@st.composite
def iptables_match(
    draw, ifaces: Sequence[str], nets: Sequence[str], ports: Sequence[str], kinds: Sequence[str] = MATCH_KINDS
) -> str:
    """One match the model understands (``-i``, ``-d``, ``--dport``, conntrack, ...)."""
    kind = draw(st.sampled_from(kinds))
    if kind in ("iif", "oif"):
        return f"{_neg(draw)}-{kind[0]} {draw(st.sampled_from(ifaces))}"
    if kind in ("src", "dst"):
        return f"{_neg(draw)}-{kind[0]} {draw(st.sampled_from(nets))}"
    if kind == "proto":
        return f"{_neg(draw)}-p {draw(st.sampled_from(['tcp', 'udp']))}"
    if kind == "dport":
        return f"-p tcp -m tcp {_neg(draw)}--dport {draw(st.sampled_from(ports))}"
    if kind == "multiport":
        chosen = ",".join(draw(st.lists(st.sampled_from(ports), min_size=1, max_size=3)))
        return f"-p tcp -m multiport {_neg(draw)}--dports {chosen}"
    if kind == "ctstate":
        return f"-m conntrack {_neg(draw)}--ctstate {draw(st.sampled_from(CTSTATES))}"
    if kind == "ctorig":
        return f"-p tcp -m conntrack {_neg(draw)}--ctorigdstport {draw(st.sampled_from(ports))}"
    if kind == "ctorigdst":
        return f"-m conntrack {_neg(draw)}--ctorigdst {draw(st.sampled_from(nets))}"
    if kind == "addrtype":
        return f"-m addrtype {_neg(draw)}--dst-type {draw(st.sampled_from(['LOCAL', 'UNICAST', 'LOCAL,BROADCAST']))}"
    if kind == "iprange":
        return f"-m iprange {_neg(draw)}--src-range 198.18.0.1-198.18.0.254"
    return '-m comment --comment "generated rule"'
