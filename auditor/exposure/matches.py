"""Rule matches in three-valued logic: ``True``, ``False`` or ``None`` (cannot tell).

Each match is a small frozen record with ``test(pkt, ctx)`` (a ``msgspec.Struct``: equal only
to a record of its own type with equal fields, hashable, and made without compiling methods
at import, which made this module ~11 ms of every scan that analyses). A match the model does not
understand is an ``Unknown`` that always answers ``None``; it never answers ``False``, so an
unknown construct can make an answer unknown but never make a port look blocked.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from auditor.exposure.packet import Context, Packet

PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "132": "sctp", "0": "all"}
CT_STATES = frozenset({"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"})
ADDR_TYPES = frozenset({"LOCAL", "UNICAST", "BROADCAST", "MULTICAST", "UNSPEC"})
OTHER_ADDR_TYPES = frozenset({"ANYCAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"})
TCP_FLAGS = {"FIN": 1, "SYN": 2, "RST": 4, "PSH": 8, "ACK": 16, "URG": 32, "ECE": 64, "CWR": 128}


def _neg(result: bool, negate: bool) -> bool:
    return result != negate


class Unknown(msgspec.Struct, frozen=True):
    """A construct the model does not evaluate; ``reason`` says which."""

    reason: str

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        return None


class Iface(msgspec.Struct, frozen=True):
    """``-i``/``-o`` NAME, ``NAME+`` as a prefix wildcard; a packet without that interface
    (``-i`` on a locally generated packet) does not match."""

    outgoing: bool
    name: str
    prefix: bool
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        value = pkt.oif if self.outgoing else pkt.iif
        if value is None:
            return self.negate
        hit = value.startswith(self.name) if self.prefix else value == self.name
        return hit != self.negate


class Addr(msgspec.Struct, frozen=True):
    """``-s``/``-d`` network, or a conntrack address (``field`` names the packet field)."""

    field: str  # src | dst | orig_src | orig_dst | repl_src | repl_dst
    family: int
    network: int
    mask: int
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if pkt.family != self.family:
            return False  # an nft inet rule on ip addresses never matches IPv6 (and back)
        return ((getattr(pkt, self.field) & self.mask) == self.network) != self.negate


class Proto(msgspec.Struct, frozen=True):
    """``-p`` (also ``--ctproto``): ``all`` matches every protocol."""

    proto: str
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        return (self.proto == "all" or pkt.proto == self.proto) != self.negate


class Ports(msgspec.Struct, frozen=True):
    """``--dport``/``--sport`` (tcp/udp), ``multiport`` lists, conntrack ports.

    ``proto`` is the protocol the match belongs to (``-m tcp`` only sees TCP); ``None`` for
    conntrack ports and multiport, which the rule's ``-p`` already restricts.
    """

    field: str  # sport | dport | orig_sport | orig_dport | repl_sport | repl_dport | ports
    ranges: tuple[tuple[int, int], ...]
    negate: bool
    proto: str | None = None

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if self.proto is not None and pkt.proto != self.proto:
            return False
        if self.field == "ports":  # multiport --ports: either port
            hit = any(lo <= pkt.sport <= hi or lo <= pkt.dport <= hi for lo, hi in self.ranges)
        else:
            value = getattr(pkt, self.field)
            hit = any(lo <= value <= hi for lo, hi in self.ranges)
        return hit != self.negate


class CtState(msgspec.Struct, frozen=True):
    """``--ctstate``/``--state``; DNAT and SNAT are conntrack's virtual states."""

    states: frozenset[str]
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        hit = pkt.ctstate in self.states
        if not hit and pkt.ctstate != "UNTRACKED":
            hit = ("DNAT" in self.states and pkt.dnat) or ("SNAT" in self.states and pkt.snat)
        return hit != self.negate


class CtDir(msgspec.Struct, frozen=True):
    reply: bool
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if pkt.ctstate == "UNTRACKED":
            return False
        return (pkt.reply == self.reply) != self.negate


class CtStatus(msgspec.Struct, frozen=True):
    """``--ctstatus``: the first packet of a connection has none of the bits (NONE); its
    first reply has SEEN_REPLY and CONFIRMED; ASSURED is not decided."""

    statuses: frozenset[str]
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if pkt.ctstate == "UNTRACKED":
            return False
        if pkt.reply:
            if "ASSURED" in self.statuses:
                return None
            hit = bool(self.statuses & {"SEEN_REPLY", "CONFIRMED"})
        else:
            hit = "NONE" in self.statuses
        return hit != self.negate


class Tracked(msgspec.Struct, frozen=True):
    """Wraps a conntrack match: an untracked packet has no conntrack entry to compare."""

    inner: Addr | Ports | Proto

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if pkt.ctstate == "UNTRACKED":
            return False
        return self.inner.test(pkt, ctx)


class AddrType(msgspec.Struct, frozen=True):
    """``-m addrtype --src-type/--dst-type`` (comma list, ``!``)."""

    field: str  # src | dst
    types: frozenset[str]
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        kind = ctx.addr_type(pkt.family, getattr(pkt, self.field))
        return (kind in self.types) != self.negate


class Range(msgspec.Struct, frozen=True):
    """``-m iprange --src-range/--dst-range A-B``."""

    field: str
    family: int
    low: int
    high: int
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if pkt.family != self.family:
            return False
        return (self.low <= getattr(pkt, self.field) <= self.high) != self.negate


class IpSet(msgspec.Struct, frozen=True):
    """``-m set --match-set NAME src|dst`` for single-dimension address sets.

    Unknown (``None``) unless the set's contents are in the context.
    """

    name: str
    field: str
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        contents = ctx.sets.get(self.name)
        if contents is None:
            return None
        kind, members = contents
        value = getattr(pkt, self.field)
        if kind == "ip":
            hit = (pkt.family, value) in members
        elif kind == "net":
            hit = any(fam == pkt.family and value & mask == net for fam, net, mask in members)
        else:
            return None
        return hit != self.negate


class TcpFlags(msgspec.Struct, frozen=True):
    """``--tcp-flags MASK COMP`` and ``--syn`` on the SYN (first) or SYN+ACK (reply)."""

    mask: int
    comp: int
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if pkt.proto != "tcp":
            return False
        flags = TCP_FLAGS["SYN"] | (TCP_FLAGS["ACK"] if pkt.reply else 0)
        return ((flags & self.mask) == self.comp) != self.negate


class Const(msgspec.Struct, frozen=True):
    """A match whose answer is the same for every packet the model follows
    (``-f``: a connection's first packet is never a later fragment; ``--pkt-type unicast``)."""

    value: bool
    label: str

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        return self.value


class Bridged(msgspec.Struct, frozen=True):
    """``-m physdev --physdev-is-bridged``."""

    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        return pkt.bridged != self.negate


class Mark(msgspec.Struct, frozen=True):
    """``-m mark``/``-m connmark``: decided only when nothing on the host sets marks."""

    value: int
    mask: int
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        if not ctx.marks_static:
            return None
        return ((pkt.mark & self.mask) == self.value) != self.negate


class Family(msgspec.Struct, frozen=True):
    """nft ``meta nfproto ipv4|ipv6`` (an inet table sees both families)."""

    family: int
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        return (pkt.family == self.family) != self.negate


class AnyOf(msgspec.Struct, frozen=True):
    """An nft set of values (``{ 80, 443 }``): true when one member is, in three values."""

    options: tuple[Match, ...]
    negate: bool

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        result: bool | None = False
        for option in self.options:
            hit = option.test(pkt, ctx)
            if hit is True:
                return not self.negate
            if hit is None:
                result = None
        return None if result is None else self.negate


class All(msgspec.Struct, frozen=True):
    """A conjunction inside one nft expression (an address match and its implicit family
    dependency: ``ip saddr != X`` never matches an IPv6 packet)."""

    parts: tuple[Match, ...]

    def test(self, pkt: Packet, ctx: Context) -> bool | None:
        return evaluate(self.parts, pkt, ctx)


class Match(Protocol):
    def test(self, pkt: Packet, ctx: Context) -> bool | None: ...


def evaluate(matches: tuple[Match, ...], pkt: Packet, ctx: Context) -> bool | None:
    """Conjunction in three-valued logic: ``False`` wins, then ``None``, else ``True``."""
    result: bool | None = True
    for match in matches:
        hit = match.test(pkt, ctx)
        if hit is False:
            return False
        if hit is None:
            result = None
    return result


def unknown_reasons(matches: tuple[Match, ...]) -> tuple[str, ...]:
    return tuple(m.reason for m in matches if isinstance(m, Unknown))
