"""Transports: the part of a path that does not depend on which container is the goal.

A connection attempt is a *transport* (the hooks and routing decisions a packet goes
through: PREROUTING, the route, FORWARD or INPUT, POSTROUTING, or OUTPUT for a local client,
or the hooks its first reply takes) followed by an *endpoint* (is it the container, which
docker-proxy listens, does the reply come back). Only the endpoint looks at the goal, so a
transport's result depends on its first packet alone, and on only what it read of it.

``TransportMemo`` keeps results by that: the fields a transport cannot learn anything
target-specific from (the zone's interface and source, the protocol, conntrack state...)
are part of every key as they are; of the others (the destination address and port for a
forward packet, the source for a reply) only what the transport read is, as *tags*: a
field with the class function of the hook that read it (which exact values, prefixes,
ranges the value satisfies), or with a routing question (``route``: which route;
``local``: a host address?; ``lo127``: in 127/8?; ``raw``: the value itself, e.g. printed
in a trace). Packets with the same base fields and the same answers to every tag take the
same transport, so containers behind the same rules share it and only their endpoints are
computed one by one.

Results are kept *relative* (steps, assumptions, edits from an empty start), with the
packet at each item rebuilt from the new first packet: the interfaces the path set, then
the edits (DNAT...) replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from auditor.exposure.packet import Packet
from auditor.exposure.signatures import SignatureTables
from auditor.exposure.walk import Edit, Flow, apply_edits

# The addresses and ports of a packet, keyed only by what a transport read of them (so
# containers, and zones that differ only in their source, share); every other field is
# keyed as it is.
FORWARD_TAGGED = frozenset(
    {"src", "dst", "dport", "orig_src", "orig_dst", "orig_dport", "repl_src", "repl_dst", "repl_sport"}
)
REPLY_TAGGED = frozenset(
    {"src", "dst", "sport", "orig_src", "orig_dst", "orig_dport", "repl_src", "repl_dst", "repl_sport"}
)
# The only fields a transport sets itself (routing, loopback, leaving a bridge); the rest
# change only through edits.
GLUE_FIELDS = ("iif", "oif", "bridged")
FIELD_INDEX = {name: i for i, name in enumerate(Packet._fields)}
ADDRESS_FIELDS = frozenset({"src", "dst", "orig_src", "orig_dst", "repl_src", "repl_dst"})
_DNAT_ADDR = ("dst", "repl_src")
_DNAT_PORT = ("dport", "repl_sport")

END, DELIVER, SOCKET = "end", "deliver", "socket"
Tag = tuple[str, Any]  # (field, a walk field class | "raw" | "local" | "route" | "lo127")


class Item(NamedTuple):
    """What a transport ends in: a verdict (``END``), a packet leaving on ``flow.pkt.oif``
    towards a container (``DELIVER``), or a packet at a local socket (``SOCKET``)."""

    kind: str
    flow: Flow
    verdict: str = ""
    bridged: bool = False
    skip_filter: bool = False
    extra: frozenset[str] = frozenset()  # assumptions added to every answer of a delivery


class _Stored(NamedTuple):
    kind: str
    verdict: str
    bridged: bool
    skip_filter: bool
    extra: frozenset[str]
    steps: tuple
    undecided: frozenset[str]
    reasons: tuple[str, ...]
    edits: tuple[Edit, ...]
    glue: tuple[tuple[str, Any], ...]


def edited_fields(edits: tuple[Edit, ...]) -> set[str]:
    """Tagged fields an edit overwrote (a DNAT that keeps the port keeps the packet's own)."""
    out: set[str] = set()
    for kind, addr, port in edits:
        if kind == "dnat":
            if addr is not None:
                out.update(_DNAT_ADDR)
            if port is not None:
                out.update(_DNAT_PORT)
    return out


class Recorder:
    """The tags one transport computation read of its first packet."""

    __slots__ = ("tagged", "tags")

    def __init__(self, tagged: frozenset[str]) -> None:
        self.tagged = tagged
        self.tags: set[Tag] = set()

    def read(self, flow: Flow, field: str, kind: Any) -> None:
        """``flow`` read ``field`` through ``kind``; it counts only while the field still
        holds the first packet's value (an overwritten field depends on what chose the edit,
        which was read before)."""
        if field in self.tagged and not (flow.edits and field in edited_fields(flow.edits)):
            self.tags.add((field, kind))

    def read_all(self, flow: Flow, tags: tuple[Tag, ...]) -> None:
        edited = edited_fields(flow.edits) if flow.edits else ()
        tagged, add = self.tagged, self.tags.add
        for tag in tags:
            if tag[0] in tagged and tag[0] not in edited:
                add(tag)


def store(entry: Packet, items: list[Item]) -> tuple[_Stored, ...]:
    """Items computed from ``Flow(entry)``, kept relative to ``entry``."""
    out = []
    for item in items:
        f = item.flow
        glue = tuple(
            (name, getattr(f.pkt, name))
            for name in GLUE_FIELDS
            if getattr(f.pkt, name) != getattr(entry, name)
        )
        stored = _Stored(
            item.kind, item.verdict, item.bridged, item.skip_filter, item.extra,
            f.steps, f.undecided, f.reasons, f.edits, glue,
        )  # fmt: skip
        if rebuild(entry, stored) != f.pkt:
            raise AssertionError(f"a transport changed a packet field outside edits: {f.pkt} from {entry}")
        out.append(stored)
    return tuple(out)


def rebuild(entry: Packet, stored: _Stored) -> Packet:
    pkt = entry._replace(**dict(stored.glue)) if stored.glue else entry
    return apply_edits(pkt, stored.edits) if stored.edits else pkt


def replay(start: Flow, stored: tuple[_Stored, ...]) -> list[Item]:
    """Stored items applied to ``start`` (whose packet is in the stored one's class)."""
    out = []
    for s in stored:
        flow = Flow(
            rebuild(start.pkt, s),
            start.steps + s.steps if start.steps else s.steps,
            start.undecided | s.undecided if s.undecided else start.undecided,
            start.reasons + s.reasons if s.reasons else start.reasons,
            start.edits + s.edits if s.edits else start.edits,
        )
        out.append(Item(s.kind, flow, s.verdict, s.bridged, s.skip_filter, s.extra))
    return out


class _Bucket(SignatureTables):
    """The signatures of one base key (see ``TransportMemo``)."""

    MAX_SIGNATURES = 32
    TRIAL = 12


class TransportMemo:
    """Results of one kind of transport, by base fields and then by the tags they read.

    Within one base key there are few tag signatures (the ways a transport can go), each
    with its own key function; a lookup tries them, the one that answered moving forward.
    A base key whose transports never repeat (each container's own DNAT) stops being
    remembered after ``_Bucket.TRIAL`` misses in a row, so those are computed directly.
    """

    def __init__(self, tagged: frozenset[str], getter: Callable[[Tag], Callable[[Packet], Any]]) -> None:
        self.tagged = tagged
        self.base = itemgetter(*(i for name, i in FIELD_INDEX.items() if name not in tagged))
        self._getter = getter
        self._buckets: dict[Any, _Bucket] = {}

    def lookup(self, pkt: Packet) -> tuple[tuple[tuple[_Stored, ...], tuple[Tag, ...]] | None, _Bucket]:
        """(the stored items and the tags they were keyed by, or None; the packet's bucket)."""
        base = self.base(pkt)
        bucket = self._buckets.get(base)
        if bucket is None:
            bucket = self._buckets[base] = _Bucket()
        return bucket.get(pkt), bucket

    def put(self, pkt: Packet, bucket: _Bucket, tags: set[Tag], items: tuple[_Stored, ...]) -> None:
        signature = frozenset(tags)
        bucket.store(signature, self._key_function, (items, tuple(signature)), pkt)

    def _key_function(self, signature: frozenset[Tag]) -> Callable[[Packet], Any]:
        getters = [self._getter(tag) for tag in sorted(signature, key=_tag_order)]
        if not getters:
            return lambda pkt: ()
        if len(getters) == 1:
            only = getters[0]
            return lambda pkt: only(pkt)
        return lambda pkt: tuple([g(pkt) for g in getters])


def _tag_order(tag: Tag) -> tuple[str, str]:
    field, kind = tag
    return field, kind if isinstance(kind, str) else f"~{id(kind)}"
