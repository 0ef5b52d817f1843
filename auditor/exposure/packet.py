"""The packet the model follows through netfilter, and the host context matches consult.

One ``Packet`` is one packet of one connection attempt at one point of its path: the first
packet (conntrack state NEW, TCP flags SYN) or the first reply (ESTABLISHED, SYN+ACK).
Addresses are integers so matches compare numbers; ``orig_*``/``repl_*`` are the conntrack
tuples, so ``--ctorigdstport`` sees the port the client asked for even after DNAT.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

V4_LOOPBACK = (0x7F000000, 0xFF000000)  # 127.0.0.0/8
V4_MULTICAST = (0xE0000000, 0xF0000000)  # 224.0.0.0/4
V6_MULTICAST = (0xFF << 120, 0xFF << 120)  # ff00::/8
V6_LOOPBACK = 1


def address_int(text: str) -> tuple[int, int]:
    """``"198.18.0.1"`` -> (4, integer), as ``ipaddress.ip_address`` reads it (``ValueError``
    on a bad address). A dotted quad written the canonical way (what the C library prints
    back for it) is read by the C library: ~10x faster, and the same answer."""
    if text.count(".") == 3 and ":" not in text:
        try:
            packed = socket.inet_pton(socket.AF_INET, text)
        except (OSError, ValueError):
            packed = None
        if packed is not None and socket.inet_ntop(socket.AF_INET, packed) == text:
            return 4, int.from_bytes(packed, "big")
    addr = ipaddress.ip_address(text)
    return addr.version, int(addr)


@lru_cache(maxsize=4096)
def ip_int(text: str) -> tuple[int, int]:
    """``"198.18.0.1"`` -> (4, integer); raises ``ValueError`` on a bad address."""
    return address_int(text.strip("[]"))


def ip_text(family: int, value: int) -> str:
    if family == 4 and 0 <= value <= 0xFFFFFFFF:
        return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def prefix_mask(family: int, length: int) -> int:
    bits = 32 if family == 4 else 128
    return ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1) if length else 0


class Packet(NamedTuple):
    """One packet as netfilter sees it at one hook (a named tuple: cheap to copy with
    ``_replace``, hash and compare, which the walk does a lot)."""

    family: int
    proto: str  # tcp | udp
    src: int
    dst: int
    sport: int
    dport: int
    iif: str | None = None  # None: locally generated (no input interface)
    oif: str | None = None  # None: not routed yet (PREROUTING, INPUT)
    ctstate: str = "NEW"  # NEW | ESTABLISHED | UNTRACKED
    reply: bool = False  # conntrack direction REPLY
    orig_src: int = 0
    orig_dst: int = 0
    orig_sport: int = 0
    orig_dport: int = 0
    repl_src: int = 0
    repl_dst: int = 0
    repl_sport: int = 0
    repl_dport: int = 0
    dnat: bool = False  # the connection's destination was rewritten
    snat: bool = False
    bridged: bool = False  # a frame between two ports of one bridge (br_netfilter)
    mark: int = 0


def first_packet(
    family: int,
    proto: str,
    src: int,
    sport: int,
    dst: int,
    dport: int,
    iif: str | None,
    bridged: bool = False,
) -> Packet:
    """The SYN of a new connection, its conntrack tuples set from its own addresses."""
    return Packet(
        family=family,
        proto=proto,
        src=src,
        dst=dst,
        sport=sport,
        dport=dport,
        iif=iif,
        orig_src=src,
        orig_dst=dst,
        orig_sport=sport,
        orig_dport=dport,
        repl_src=dst,
        repl_dst=src,
        repl_sport=dport,
        repl_dport=sport,
        bridged=bridged,
    )


def with_dnat(pkt: Packet, dst: int | None, dport: int | None) -> Packet:
    """The packet after DNAT: new destination (``None`` keeps the address or the port); the
    reply tuple follows, the original stays."""
    dst = pkt.dst if dst is None else dst
    dport = pkt.dport if dport is None else dport
    return pkt._replace(dst=dst, dport=dport, repl_src=dst, repl_sport=dport, dnat=True)


def reply_to(pkt: Packet, iif: str | None, bridged: bool) -> Packet:
    """The first reply of the connection ``pkt`` opened (as it leaves the server, before
    the reverse NAT that POSTROUTING applies)."""
    return Packet(
        family=pkt.family,
        proto=pkt.proto,
        src=pkt.dst,
        dst=pkt.orig_src,
        sport=pkt.dport,
        dport=pkt.orig_sport,
        iif=iif,
        ctstate="ESTABLISHED",
        reply=True,
        orig_src=pkt.orig_src,
        orig_dst=pkt.orig_dst,
        orig_sport=pkt.orig_sport,
        orig_dport=pkt.orig_dport,
        repl_src=pkt.repl_src,
        repl_dst=pkt.repl_dst,
        repl_sport=pkt.repl_sport,
        repl_dport=pkt.repl_dport,
        dnat=pkt.dnat,
        snat=pkt.snat,
        bridged=bridged,
        mark=pkt.mark,
    )


@dataclass
class Context:
    """What matches need to know about the host: its addresses and ipset contents.

    ``sets`` maps an ipset name to the frozenset of (family, integer) members it holds, or
    (for hash:net) to a tuple of (family, network, mask); a set that is not listed is unknown.
    ``marks_static`` is true when nothing on the host sets packet or connection marks, so
    every mark is 0 and ``-m mark`` can be decided.
    """

    local: frozenset[tuple[int, int]] = frozenset()
    broadcast: frozenset[tuple[int, int]] = frozenset()
    sets: dict[str, tuple[str, tuple]] = field(default_factory=dict)
    marks_static: bool = False

    def addr_type(self, family: int, value: int) -> str:
        """The route type of an address as ``-m addrtype`` sees it (LOCAL, BROADCAST, ...)."""
        if (family, value) in self.local:
            return "LOCAL"
        if family == 4:
            if value & V4_LOOPBACK[1] == V4_LOOPBACK[0]:
                return "LOCAL"
            if value == 0xFFFFFFFF or (family, value) in self.broadcast:
                return "BROADCAST"
            if value & V4_MULTICAST[1] == V4_MULTICAST[0]:
                return "MULTICAST"
            if value == 0:
                return "UNSPEC"
        else:
            if value == V6_LOOPBACK:
                return "LOCAL"
            if value & V6_MULTICAST[1] == V6_MULTICAST[0]:
                return "MULTICAST"
            if value == 0:
                return "UNSPEC"
        return "UNICAST"
