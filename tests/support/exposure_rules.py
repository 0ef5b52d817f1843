"""Random DOCKER-USER rule sets for the lab's differential test (hypothesis strategies).

A rule is drawn as a template whose ``{name}`` fields ``exposure_scenarios.fill`` replaces
with the engine's own addresses: the matches people write (interfaces, addresses of the LAN,
the internet, the bridges and single containers, protocols, ports before and after DNAT,
conntrack states and original tuples, address types and ranges, comments) and the usual
targets, jumps and gotos to a user chain (``AUD-CHAIN``, drawn like DOCKER-USER, ending in
RETURN or not); now and then a match the model cannot decide (a rate limit, ``recent``,
``statistic``), whose answers must come out unknown, never wrong.

Source ports are left out: the model follows one client port (40000) where real clients
pick any ephemeral one, so a ``--sport`` rule (or a port range across the ephemeral range,
which replies carry as their destination port) could tell them apart. Every port range here
stays below 32768.
"""

from __future__ import annotations

from hypothesis import strategies as st

IN_IFACES = ("eth0", "docker0", "{appnet_bridge}", "br-+", "eth+")
OUT_IFACES = ("eth0", "docker0", "{appnet_bridge}", "{othernet_bridge}", "br-+")
SOURCES = ("{lan}", "{laptop}/32", "{remote}/32", "{internet}", "{bridge}", "{web}/32", "198.18.0.0/15")
DESTINATIONS = ("{web}/32", "{cache}/32", "{api}/32", "{db}/32", "{bridge}", "{engine}/32", "198.19.0.0/16")
PORTS = ("80", "5432", "6379", "8080", "8081", "15432", "9000", "1000:7000", "5000:9000")
STATES = ("NEW", "ESTABLISHED", "RELATED,ESTABLISHED", "DNAT", "NEW,DNAT", "INVALID", "SNAT")
TARGETS = ("ACCEPT", "DROP", "REJECT", "RETURN", "DROP", "RETURN", "NFLOG --nflog-group 7")
USER_CHAIN = "AUD-CHAIN"
JUMPS = (f"-j {USER_CHAIN}", f"-g {USER_CHAIN}")
UNDECIDED = (
    "-m limit --limit 1/hour --limit-burst 1",
    "-m recent --name auditor --rcheck --seconds 60",
    "-m statistic --mode nth --every 3 --packet 0",
)


def _not(draw: st.DrawFn) -> str:
    return "! " if draw(st.integers(0, 3)) == 0 else ""


@st.composite
def match(draw: st.DrawFn) -> tuple[str, str | None]:
    """(match text, the protocol it needs or is: ``-p ...`` is added once by ``rule``)."""
    kind = draw(
        st.sampled_from(
            (
                "iif", "oif", "src", "dst", "proto", "dport", "dport", "multiport", "state",
                "state", "origport", "origdst", "origsrc", "addrtype", "iprange", "comment",
            )
        )
    )  # fmt: skip
    n = _not(draw)
    if kind == "iif":
        return f"{n}-i {draw(st.sampled_from(IN_IFACES))}", None
    if kind == "oif":
        return f"{n}-o {draw(st.sampled_from(OUT_IFACES))}", None
    if kind == "src":
        return f"{n}-s {draw(st.sampled_from(SOURCES))}", None
    if kind == "dst":
        return f"{n}-d {draw(st.sampled_from(DESTINATIONS))}", None
    if kind == "proto":
        return "", f"{n}-p {draw(st.sampled_from(('tcp', 'udp')))}"
    if kind == "dport":
        return f"-m tcp {n}--dport {draw(st.sampled_from(PORTS))}", "-p tcp"
    if kind == "multiport":
        ports = draw(st.lists(st.sampled_from(PORTS), min_size=2, max_size=3, unique=True))
        return f"-m multiport {n}--dports {','.join(ports)}", "-p tcp"
    if kind == "state":
        return f"-m conntrack {n}--ctstate {draw(st.sampled_from(STATES))}", None
    if kind == "origport":
        return f"-m conntrack {n}--ctorigdstport {draw(st.sampled_from(PORTS))}", None
    if kind == "origdst":
        return f"-m conntrack {n}--ctorigdst {draw(st.sampled_from(DESTINATIONS))}", None
    if kind == "origsrc":
        return f"-m conntrack {n}--ctorigsrc {draw(st.sampled_from(SOURCES))}", None
    if kind == "addrtype":
        which = draw(st.sampled_from(("src", "dst")))
        return f"-m addrtype {n}--{which}-type {draw(st.sampled_from(('LOCAL', 'UNICAST')))}", None
    if kind == "iprange":
        return f"-m iprange {n}--src-range 198.18.0.1-198.18.0.127", None
    return '-m comment --comment "generated"', None


@st.composite
def rule(draw: st.DrawFn, chain: str = "DOCKER-USER", jumps: bool = False) -> str:
    """One rule of ``chain`` (a jump or goto to the user chain now and then when ``jumps``):
    at most one protocol (``-p tcp`` when a port match needs it,
    which then drops a drawn ``-p udp`` or ``! -p``), matches, a target."""
    drawn = draw(st.lists(match(), min_size=0, max_size=3, unique_by=_flag))  # one -i, -o, -s, -d
    parts = [text for text, _ in drawn if text]
    needs = {proto for _, proto in drawn if proto}
    if draw(st.integers(0, 19)) == 0:
        parts.append(draw(st.sampled_from(UNDECIDED)))
    proto = (
        "-p tcp"
        if "-p tcp" in needs and any(t.startswith("-m tcp") or t.startswith("-m multiport") for t in parts)
        else (sorted(needs)[0] if needs else "")
    )
    text = " ".join(([proto] if proto else []) + parts)
    verdict = f"-j {draw(st.sampled_from(TARGETS))}"
    if jumps and draw(st.integers(0, 3)) == 0:
        verdict = draw(st.sampled_from(JUMPS))
    return f"-A {chain} {text} {verdict}".replace("  ", " ")


@st.composite
def rule_set(draw: st.DrawFn) -> tuple[str, ...]:
    """DOCKER-USER's rules, then (when one of them jumps there) the user chain's."""
    rules = draw(st.lists(rule(jumps=True), min_size=1, max_size=5))
    if any(r.endswith(JUMPS) for r in rules):
        rules += draw(st.lists(rule(chain=USER_CHAIN), min_size=1, max_size=3))
    return tuple(rules)


def undecided(rules: tuple[str, ...]) -> bool:
    """Whether a rule set holds a match the model cannot decide."""
    return any(m in r for r in rules for m in UNDECIDED)


def _flag(drawn: tuple[str, str | None]) -> str:
    words = drawn[0].removeprefix("! ").split()
    return words[0] if words and words[0] in ("-i", "-o", "-s", "-d") else drawn[0] or str(drawn[1])


def restore_text(rules: tuple[str, ...]) -> str:
    """``iptables-restore --noflush`` input that replaces DOCKER-USER by ``rules`` (Docker's
    final RETURN kept) and the user chain by its rules (created empty when there are none)."""
    own = [r for r in rules if r.startswith("-A DOCKER-USER ")]
    chain = [r for r in rules if r.startswith(f"-A {USER_CHAIN} ")]
    body = "".join(r + "\n" for r in (*own, "-A DOCKER-USER -j RETURN", *chain))
    return f"*filter\n:{USER_CHAIN} - [0:0]\n-F DOCKER-USER\n{body}COMMIT\n"
