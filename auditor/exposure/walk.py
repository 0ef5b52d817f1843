"""Walk one table's chain for one packet, in three-valued logic.

Semantics (documented in docs/exposure.md):

- Rules are tried in order; the first rule whose matches are all true applies its target.
  ``-j CHAIN`` walks CHAIN and comes back after its end or a ``RETURN``; ``-g CHAIN`` does
  not come back (a ``RETURN`` there returns from the chain that did the goto). At the end of
  a built-in chain (or a ``RETURN`` in it) the chain's policy applies.
- A rule whose matches are undecided (at least one ``None``, none ``False``) splits the walk
  in two: one branch where it matched, one where it did not. Every branch is followed to its
  verdict. Branches that end alike are merged, so the answer is known whenever all branches
  agree, e.g. an undecided ``ACCEPT`` followed by an ``ACCEPT`` for the same packet. The
  rules that split are kept as ``undecided`` so a report can say what was assumed.
- ``ACCEPT`` ends the walk of this table only; the next table of the hook still runs.
- Non-terminating targets (LOG, MARK...) continue; a target the model does not know ends the
  branch with verdict UNKNOWN.

Speed: a walk's result depends only on what its rules can observe of the packet. For each
chain (with the chains it jumps to) a ``Projector`` reduces a packet to that: for every field
the rules test, which of their exact values, prefixes, ranges and patterns it satisfies.
Packets with the same projection get the same walk, computed once and kept as *relative*
results (verdict, packet edits, steps) that are then applied to each flow.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

import msgspec

from auditor.exposure.matches import (
    Addr,
    AddrType,
    All,
    AnyOf,
    Bridged,
    Const,
    CtDir,
    CtState,
    CtStatus,
    Family,
    Iface,
    IpSet,
    Mark,
    Match,
    Ports,
    Proto,
    Range,
    TcpFlags,
    Tracked,
    Unknown,
)
from auditor.exposure.packet import Context, Packet, with_dnat
from auditor.exposure.rules import Chain, Rule, Table
from auditor.exposure.signatures import SignatureTables

MAX_DEPTH = 64
ACCEPT, DROP, UNKNOWN = "ACCEPT", "DROP", "UNKNOWN"
FIELD_INDEX = {name: i for i, name in enumerate(Packet._fields)}


class Step(msgspec.Struct, frozen=True):
    """One thing that happened to the packet: a rule that applied, a chain's policy, a
    routing decision or a listening proxy (``table`` is ``route`` / ``socket`` for those)."""

    table: str
    chain: str
    rule: int  # 1-based; 0 for a policy, a route or a socket
    action: str
    undecided: bool = False
    text: str = ""


# ("dnat", address, port) with None keeping the packet's own | ("untracked", 0, 0) | ("snat", 0, 0).
# Edits are kept relative so a remembered result applies to every packet of its class: a DNAT
# without a port keeps each packet's own port, not the port of the packet that computed it.
Edit = tuple[str, int | None, int | None]


def apply_edits(pkt: Packet, edits: tuple[Edit, ...]) -> Packet:
    for kind, a, b in edits:
        if kind == "dnat":
            pkt = with_dnat(pkt, a, b)
        elif kind == "untracked":
            pkt = pkt._replace(ctstate="UNTRACKED")
        elif kind == "snat":
            pkt = pkt._replace(snat=True)
    return pkt


class Flow(NamedTuple):
    """A packet on its way, with what happened to it and which undecided rules it assumed
    (a named tuple: flows are made by the hundred thousand)."""

    pkt: Packet
    steps: tuple[Step, ...] = ()
    undecided: frozenset[str] = frozenset()
    reasons: tuple[str, ...] = ()
    edits: tuple[Edit, ...] = ()

    def then(self, step: Step, undecided: str | None = None, pkt: Packet | None = None) -> Flow:
        return Flow(
            pkt if pkt is not None else self.pkt,
            self.steps + (step,),
            self.undecided | {undecided} if undecided else self.undecided,
            self.reasons,
            self.edits,
        )

    def edited(self, edit: Edit) -> Flow:
        return Flow(
            apply_edits(self.pkt, (edit,)), self.steps, self.undecided, self.reasons, self.edits + (edit,)
        )

    def because(self, reason: str) -> Flow:
        return Flow(self.pkt, self.steps, self.undecided, self.reasons + (reason,), self.edits)

    def assuming(self, undecided: frozenset[str]) -> Flow:
        return Flow(self.pkt, self.steps, self.undecided | undecided, self.reasons, self.edits)


class Branch(NamedTuple):
    """How a walk ended: ACCEPT (go on, maybe with a rewritten packet), DROP or UNKNOWN
    (``flow.reasons`` says why); the path model adds REACHABLE and BLOCKED."""

    verdict: str
    flow: Flow


def merge(branches: list[Branch]) -> list[Branch]:
    """One branch per distinct (verdict, packet): the first one's steps, all assumptions."""
    out: dict[tuple[str, Packet], Branch] = {}
    for b in branches:
        key = (b.verdict, b.flow.pkt)
        seen = out.get(key)
        if seen is None:
            out[key] = b
        else:
            f = seen.flow
            reasons = f.reasons + tuple(r for r in b.flow.reasons if r not in f.reasons)
            out[key] = Branch(
                b.verdict, Flow(f.pkt, f.steps, f.undecided | b.flow.undecided, reasons, f.edits)
            )
    return list(out.values())


# -- projections ------------------------------------------------------------------------
class _FieldClass:
    """Which of the tested values, prefixes, ranges and patterns one field satisfies."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.exact: dict[Any, int] = {}
        self.prefixes: list[tuple[int, int, int]] = []  # family, network, mask
        self.ranges: list[tuple[int, int]] = []
        self.patterns: list[str] = []
        self.addr_type = False
        self.raw = False

    def classify(self) -> Callable[[Any, int, Context], Any]:
        """The class of one value of this field, in a packet of family ``fam``: which exact
        values, prefixes, ranges and patterns it satisfies (the value itself when raw)."""
        if self.raw:
            return lambda value, fam, ctx: value
        get = self.exact.get
        prefixes, ranges, patterns, addr_type = (
            tuple(self.prefixes),
            tuple(self.ranges),
            tuple(self.patterns),
            self.addr_type,
        )
        if not (prefixes or ranges or patterns or addr_type):
            return lambda value, fam, ctx: get(value, -1 if value is not None else -2)

        def key(value: Any, fam: int, ctx: Context) -> Any:
            return (
                get(value, -1 if value is not None else -2),
                tuple(fam == f and value & m == n for f, n, m in prefixes) if prefixes else None,
                tuple(lo <= value <= hi for lo, hi in ranges) if ranges else None,
                tuple(value is not None and value.startswith(p) for p in patterns) if patterns else None,
                ctx.addr_type(fam, value) if addr_type else None,
            )

        return key

    def getter(self) -> Callable[[Packet, Context], Any]:
        """A key function of a packet specialised to what this field needs (the common cases
        are one dictionary lookup or the raw value)."""
        i = self.index
        if self.raw:
            return lambda pkt, ctx: pkt[i]
        if not (self.prefixes or self.ranges or self.patterns or self.addr_type):
            get = self.exact.get
            return lambda pkt, ctx: get(pkt[i], -1 if pkt[i] is not None else -2)
        classify = self.classify()
        return lambda pkt, ctx: classify(pkt[i], pkt.family, ctx)


def _raw_getter(i: int) -> Callable[[Packet, Context], Any]:
    return lambda pkt, ctx: pkt[i]


class Projector:
    """Reduces a packet to what the rules of a chain (and the chains it reaches) observe."""

    def __init__(self, matches: list[Match], raw_fields: set[str]) -> None:
        self.classes: dict[str, _FieldClass] = {}
        self.raw: set[str] = set(raw_fields) | {"family"}
        self.everything = False
        for m in matches:
            self._add(m)
        for name in self.raw:
            self._field(name).raw = True
        self.getters: list[Callable[[Packet, Context], Any]] = [
            c.getter() for _, c in sorted(self.classes.items())
        ]

    def _field(self, name: str) -> _FieldClass:
        if name not in self.classes:
            self.classes[name] = _FieldClass(FIELD_INDEX[name])
        return self.classes[name]

    def _add(self, m: Match) -> None:
        if isinstance(m, Iface):
            cls = self._field("oif" if m.outgoing else "iif")
            if m.prefix:
                cls.patterns.append(m.name)
            else:
                cls.exact.setdefault(m.name, len(cls.exact))
        elif isinstance(m, Addr):
            cls = self._field(m.field)
            full = (1 << (32 if m.family == 4 else 128)) - 1
            if m.mask == full:
                cls.exact.setdefault(m.network, len(cls.exact))
                self.raw.add("family")
            else:
                cls.prefixes.append((m.family, m.network, m.mask))
        elif isinstance(m, Range):
            self._field(m.field).ranges.append((m.low, m.high))
        elif isinstance(m, Ports):
            if m.proto is not None:
                self.raw.add("proto")
            for name in ("sport", "dport") if m.field == "ports" else (m.field,):
                cls = self._field(name)
                for lo, hi in m.ranges:
                    if lo == hi:
                        cls.exact.setdefault(lo, len(cls.exact))
                    else:
                        cls.ranges.append((lo, hi))
        elif isinstance(m, AddrType):
            self._field(m.field).addr_type = True
        elif isinstance(m, (CtState, CtDir, CtStatus)):
            self.raw.update(("ctstate", "dnat", "snat", "reply"))
        elif isinstance(m, Tracked):
            self.raw.add("ctstate")
            self._add(m.inner)
        elif isinstance(m, Proto):
            self.raw.add("proto")
        elif isinstance(m, TcpFlags):
            self.raw.update(("proto", "reply"))
        elif isinstance(m, Bridged):
            self.raw.add("bridged")
        elif isinstance(m, Mark):
            self.raw.add("mark")
        elif isinstance(m, IpSet):
            self.raw.add(m.field)
        elif isinstance(m, (AnyOf, All)):
            for inner in m.options if isinstance(m, AnyOf) else m.parts:
                self._add(inner)
        elif isinstance(m, (Unknown, Const, Family)):
            pass
        else:  # a match type this projector does not know: key on the whole packet
            self.everything = True

    def key(self, pkt: Packet, ctx: Context) -> Any:
        if self.everything:
            return pkt
        return tuple([g(pkt, ctx) for g in self.getters])

    def key_function(self, signature: tuple[str, ...]) -> Callable[[Packet, Context], Any]:
        """The key of a packet for one signature: raw values (one C-level itemgetter) for
        fields kept raw, class keys for the others."""
        if self.everything:
            return lambda pkt, ctx: pkt
        raw = [FIELD_INDEX[f] for f in signature if f not in self.classes or self.classes[f].raw]
        classed = tuple(
            self.classes[f].getter() for f in signature if f in self.classes and not self.classes[f].raw
        )
        raw_getter = itemgetter(*raw) if raw else None
        if not classed:
            return (lambda pkt, ctx: raw_getter(pkt)) if raw_getter is not None else (lambda pkt, ctx: ())
        if len(classed) == 1:
            only = classed[0]
            if raw_getter is None:
                return only
            return lambda pkt, ctx: (raw_getter(pkt), only(pkt, ctx))
        return lambda pkt, ctx: (
            raw_getter(pkt) if raw_getter is not None else None,
            *[g(pkt, ctx) for g in classed],
        )


ALL_FIELDS = frozenset(Packet._fields)


def match_fields(m: Match) -> frozenset[str]:
    """The packet fields a match reads (everything, for a match type not listed)."""
    if isinstance(m, Iface):
        return frozenset({"oif" if m.outgoing else "iif"})
    if isinstance(m, (Addr, Range, AddrType, IpSet)):
        return frozenset({m.field, "family"})
    if isinstance(m, Ports):
        names = {"sport", "dport"} if m.field == "ports" else {m.field}
        return frozenset(names | ({"proto"} if m.proto is not None else set()))
    if isinstance(m, (CtState, CtDir, CtStatus)):
        return frozenset({"ctstate", "dnat", "snat", "reply"})
    if isinstance(m, Tracked):
        return match_fields(m.inner) | {"ctstate"}
    if isinstance(m, Proto):
        return frozenset({"proto"})
    if isinstance(m, TcpFlags):
        return frozenset({"proto", "reply"})
    if isinstance(m, Bridged):
        return frozenset({"bridged"})
    if isinstance(m, Mark):
        return frozenset({"mark"})
    if isinstance(m, Family):
        return frozenset({"family"})
    if isinstance(m, AnyOf):
        return frozenset().union(*(match_fields(o) for o in m.options))
    if isinstance(m, All):
        return frozenset().union(*(match_fields(o) for o in m.parts))
    if isinstance(m, (Unknown, Const)):
        return frozenset()
    return ALL_FIELDS


def prefix_reads(chain: Chain) -> tuple[frozenset[str], ...]:
    """For each rule position, the fields read by the rules up to and including it."""
    out = []
    acc: frozenset[str] = frozenset()
    for rule in chain.rules:
        fields = frozenset().union(*(match_fields(m) for m in rule.matches)) if rule.matches else frozenset()
        if rule.target.kind == "REDIRECT":
            fields = fields | {"iif", "family"}
        acc = acc | fields
        out.append(acc)
    return tuple(out)


MAX_DST_GROUPS = 32


class DstGroups(NamedTuple):
    """Which rules of a chain read the destination address, and those rules grouped by their
    other matches (``rest``) with the position of each group's first rule. A walk whose
    matched rules do not read the destination, and in which every such group before where it
    stopped fails on its other matches, took the same way for any destination address: the
    destination need not be part of its memo key (Docker's DOCKER chain holds one rule per
    container address; a frame between two containers of one bridge, or a port that is not
    published, fails each of them on ``! -i``, ``-o`` or ``--dport`` alike)."""

    reads_dst: tuple[bool, ...]  # per rule position
    groups: tuple[tuple[int, tuple[Match, ...]], ...]  # (first position, other matches), by position


def dst_groups(chain: Chain) -> DstGroups | None:
    """``DstGroups`` of a chain, or ``None`` when no rule reads the destination or the rules
    fall into more than ``MAX_DST_GROUPS`` groups (checking them would cost more than the
    memo saves) or one of them has no other match (it can only fail on the destination)."""
    reads_dst = []
    groups: dict[tuple[Match, ...], int] = {}
    for i, rule in enumerate(chain.rules):
        fields = [match_fields(m) for m in rule.matches]
        dst = any("dst" in f for f in fields)
        reads_dst.append(dst)
        if not dst:
            continue
        rest = tuple(m for m, f in zip(rule.matches, fields, strict=True) if "dst" not in f)
        if not rest:
            return None
        groups.setdefault(rest, i)
        if len(groups) > MAX_DST_GROUPS:
            return None
    if not groups:
        return None
    return DstGroups(tuple(reads_dst), tuple(sorted((i, rest) for rest, i in groups.items())))


def _fails(matches: tuple[Match, ...], pkt: Packet, ctx: Context) -> bool:
    return any(m.test(pkt, ctx) is False for m in matches)


class LazyMemo(SignatureTables):
    """Results keyed by the classes of only the fields a computation read.

    A walk that read fields F (through the rules up to where it stopped) takes the same
    path for every packet whose fields in F fall into the same classes, so its result is
    stored under the signature F and found again by computing the key of a new packet for
    each signature seen so far (there are few).

    A chain whose rules single out each container (Docker's own DOCKER chains) is walked
    once per container whatever the memo does; after ``TRIAL`` misses in a row without a
    hit the memo stops looking (``enabled``), so those walks do not pay for it."""

    MAX_SIGNATURES = 48
    TRIAL = 32

    def __init__(self, projector: Projector) -> None:
        super().__init__()
        self.projector = projector

    def put(self, reads: set[str] | frozenset[str], pkt: Packet, ctx: Context, value: Any) -> None:
        self.store(tuple(sorted(reads | {"family"})), self.projector.key_function, value, pkt, ctx)


def closure(
    table: Table, chain: Chain, matches: list[Match] | None = None, raw: set[str] | None = None
) -> tuple[list[Match], set[str]]:
    """Every match of ``chain`` and the chains it jumps to, and the fields targets read."""
    matches = [] if matches is None else matches
    raw = set() if raw is None else raw
    seen: set[str] = set()
    todo = [chain]
    while todo:
        c = todo.pop()
        if c.name in seen:
            continue
        seen.add(c.name)
        for rule in c.rules:
            matches.extend(rule.matches)
            if rule.target.kind == "REDIRECT":
                raw.add("iif")
            if rule.target.kind in ("JUMP", "GOTO"):
                sub = table.chain(rule.target.chain or "")
                if sub is not None:
                    todo.append(sub)
    return matches, raw


# -- walking ----------------------------------------------------------------------------
def _step(table: Table, chain: Chain, rule: Rule, undecided: bool) -> Step:
    return Step(table.name, chain.name, rule.number, rule.target.label(), undecided, rule.text)


def _unknown(flow: Flow, reason: str) -> Branch:
    return Branch(UNKNOWN, flow.because(reason))


class _Relative(msgspec.Struct, frozen=True):
    verdict: str
    edits: tuple[Edit, ...]
    steps: tuple[Step, ...]
    undecided: frozenset[str]
    reasons: tuple[str, ...]


class Walker:
    """Walks tables for one analysis. A jump into a user chain is remembered by the packet's
    projection onto what that chain (and the chains it reaches) can observe, so DOCKER-USER
    or DOCKER-ISOLATION-STAGE-1 is walked once per kind of packet, not once per packet."""

    def __init__(self, ctx: Context, memoize: bool = True) -> None:
        self.ctx = ctx
        self.memoize = memoize  # off: every jump walks its chain (tests compare the two)
        self._memos: dict[tuple, LazyMemo] = {}
        self._prefixes: dict[int, tuple[frozenset[str], ...]] = {}
        self._dst_groups: dict[int, tuple[DstGroups | None]] = {}
        self._projectors: dict[tuple[int, str], Projector] = {}
        self.walks = 0  # chain walks actually computed (the rest came from the memo)
        self._steps: dict[tuple[int, int, bool], Step] = {}  # (table, rule) -> its trace step, made once

    def step(self, table: Table, chain: Chain, rule: Rule, undecided: bool) -> Step:
        key = (id(table), id(rule), undecided)
        found = self._steps.get(key)
        if found is None:
            found = _step(table, chain, rule, undecided)
            self._steps[key] = found
        return found

    def projector(self, table: Table, chain: Chain) -> Projector:
        key = (id(table), chain.name)
        found = self._projectors.get(key)
        if found is None:
            found = Projector(*closure(table, chain))
            self._projectors[key] = found
        return found

    def walk_table(
        self,
        table: Table | None,
        chain_name: str,
        flow: Flow,
        redirect_to: int | None = None,
        always_policy: bool = False,
        reads: set[str] | None = None,
    ) -> list[Branch]:
        """The verdicts of one table at one hook; a missing table or chain accepts.
        ``always_policy``: record the policy step even for an empty chain (filtering tables,
        where "nothing filters it" is the deciding fact)."""
        if table is None:
            return [Branch(ACCEPT, flow)]
        if table.problems:
            return [_unknown(flow, f"{table.name}: lines the model could not read: {table.problems[0]!r}")]
        chain = table.chain(chain_name)
        if chain is None:
            return [Branch(ACCEPT, flow)]
        policy = chain.policy or ACCEPT
        if not chain.rules:
            if policy == ACCEPT and not always_policy:
                return [Branch(ACCEPT, flow)]
            return [Branch(policy, flow.then(Step(table.name, chain.name, 0, f"policy {policy}")))]
        terminals, returns = self.walk_chain(table, chain, 0, flow, 0, redirect_to, reads)
        for f in returns:
            terminals.append(Branch(policy, f.then(Step(table.name, chain.name, 0, f"policy {policy}"))))
        return merge(terminals) if len(terminals) > 1 else terminals

    def prefix(self, chain: Chain) -> tuple[frozenset[str], ...]:
        found = self._prefixes.get(id(chain))
        if found is None:
            found = prefix_reads(chain)
            self._prefixes[id(chain)] = found
        return found

    def groups(self, chain: Chain) -> DstGroups | None:
        found = self._dst_groups.get(id(chain))
        if found is None:
            found = self._dst_groups[id(chain)] = (dst_groups(chain),)
        return found[0]

    def _reads(
        self,
        groups: DstGroups | None,
        prefix: tuple[frozenset[str], ...],
        last: int,
        dst_free: bool,
        pkt: Packet,
    ) -> frozenset[str]:
        """The fields a walk that stopped at rule index ``last`` depended on: those of every
        rule up to it, but the destination when ``dst_free`` (no rule that matched read it)
        and every rule up to it that reads it fails on its other matches (``groups``: the
        chain's ``DstGroups``)."""
        fields = prefix[last]
        if not dst_free or groups is None or "dst" not in fields:
            return fields
        ctx = self.ctx
        for first, rest in groups.groups:
            if first > last:
                break
            if not _fails(rest, pkt, ctx):
                return fields
        return fields - {"dst"}

    def walk_chain(
        self,
        table: Table,
        chain: Chain,
        start: int,
        flow: Flow,
        depth: int = 0,
        redirect_to: int | None = None,
        reads: set[str] | None = None,
    ) -> tuple[list[Branch], list[Flow]]:
        """Walk ``chain`` from rule number ``start`` + 1: (verdicts reached, flows that
        fell off the end or returned). ``reads`` collects the fields the walk depended on."""
        if reads is None:
            reads = set()
        if depth > MAX_DEPTH:
            return [_unknown(flow, f"{table.name} {chain.name}: chains nested deeper than {MAX_DEPTH}")], []
        self.walks += 1
        ctx = self.ctx
        prefix = self.prefix(chain)
        terminals: list[Branch] = []
        returns: list[Flow] = []
        pkt = flow.pkt
        groups = self.groups(chain) if start == 0 else None
        dst_free = groups is not None  # no rule that matched read the destination (so far)
        for rule in chain.candidates(pkt):
            if rule.number <= start or rule.target.kind == "CONTINUE":
                continue
            hit: bool | None = True
            for match in rule.matches:
                result = match.test(pkt, ctx)
                if result is False:
                    hit = False
                    break
                if result is None:
                    hit = None
            if hit is False:
                continue
            undecided = hit is None
            if dst_free and groups is not None and (undecided or groups.reads_dst[rule.number - 1]):
                dst_free = False
            taken = flow.then(self.step(table, chain, rule, undecided), rule.ref if undecided else None)
            terms, conts, rets = self._apply(table, rule, taken, depth, redirect_to, reads)
            terminals.extend(terms)
            returns.extend(rets)
            if undecided:
                flow = flow.assuming(frozenset({rule.ref}))
            elif not conts:
                reads |= self._reads(groups, prefix, rule.number - 1, dst_free, pkt)
                return terminals, returns
            same = [c for c in conts if c.pkt == pkt]
            for c in conts:
                if c.pkt != pkt:  # the rule changed the packet (NOTRACK): go on with the new one
                    sub_terms, sub_rets = self.walk_chain(
                        table, chain, rule.number, c, depth, redirect_to, reads
                    )
                    terminals.extend(sub_terms)
                    returns.extend(sub_rets)
            if not undecided:
                if not same:
                    reads |= self._reads(groups, prefix, rule.number - 1, dst_free, pkt)
                    return terminals, returns
                flow = same[0]  # came back from a jump: go on with its steps
                for c in same[1:]:
                    flow = flow.assuming(c.undecided)
            else:
                for c in same:  # the matched branch came back: the same packet goes on
                    flow = flow.assuming(c.undecided)
        if prefix:
            reads |= self._reads(groups, prefix, len(prefix) - 1, dst_free, pkt)
        returns.append(flow)
        return terminals, returns

    def _jump(
        self, table: Table, sub: Chain, flow: Flow, depth: int, redirect_to: int | None, reads: set[str]
    ) -> tuple[list[Branch], list[Flow]]:
        """Walk a user chain, from the memo when an equivalent packet walked it before."""
        key = (id(table), sub.name, depth, redirect_to)
        memo = self._memos.get(key)
        if memo is None:
            memo = self._memos[key] = LazyMemo(self.projector(table, sub))
            memo.enabled = self.memoize
        relative = memo.get(flow.pkt, self.ctx)
        if relative is None:
            sub_reads: set[str] = set()
            terms, rets = self.walk_chain(table, sub, 0, Flow(flow.pkt), depth, redirect_to, sub_reads)
            relative = (
                tuple(
                    _Relative(b.verdict, b.flow.edits, b.flow.steps, b.flow.undecided, b.flow.reasons)
                    for b in terms
                ),
                tuple(_Relative("RETURN", f.edits, f.steps, f.undecided, f.reasons) for f in rets),
                frozenset(sub_reads),
            )
            memo.put(sub_reads, flow.pkt, self.ctx, relative)
        rel_terms, rel_rets, rel_reads = relative
        reads |= rel_reads
        return [Branch(r.verdict, compose(flow, r)) for r in rel_terms], [compose(flow, r) for r in rel_rets]

    def _apply(
        self, table: Table, rule: Rule, flow: Flow, depth: int, redirect_to: int | None, reads: set[str]
    ) -> tuple[list[Branch], list[Flow], list[Flow]]:
        """The target of a rule that matched: (verdicts, flows that go on in this chain,
        flows that return from this chain)."""
        target = rule.target
        kind = target.kind
        if kind in (ACCEPT, DROP):
            return [Branch(kind, flow)], [], []
        if kind == "RETURN":
            return [], [], [flow]
        if kind in ("JUMP", "GOTO"):
            sub = table.chain(target.chain or "")
            if sub is None:
                return [_unknown(flow, f"{rule.ref}: jump to a missing chain {target.chain}")], [], []
            terms, rets = self._jump(table, sub, flow, depth + 1, redirect_to, reads)
            return (terms, rets, []) if kind == "JUMP" else (terms, [], rets)
        if kind == "DNAT":
            return [Branch(ACCEPT, flow.edited(("dnat", target.to_addr, target.to_port)))], [], []
        if kind == "REDIRECT":
            if redirect_to is None:
                return [_unknown(flow, f"{rule.ref}: REDIRECT on a packet without an input address")], [], []
            return [Branch(ACCEPT, flow.edited(("dnat", redirect_to, target.to_port)))], [], []
        if kind == "SNAT":
            return [Branch(ACCEPT, flow.edited(("snat", 0, 0)))], [], []
        if kind == "NOTRACK":
            return [], [flow.edited(("untracked", 0, 0))], []
        if kind in ("MARK", "CONTINUE"):
            return [], [flow], []
        return (
            [_unknown(flow, f"{rule.ref}: {target.note or 'target ' + target.name + ' not modelled'}")],
            [],
            [],
        )


def compose(flow: Flow, rel: _Relative | Flow) -> Flow:
    """``rel`` (computed from an empty flow of an equivalent packet) applied to ``flow``."""
    if not rel.edits and not rel.undecided and not rel.reasons:
        return Flow(flow.pkt, flow.steps + rel.steps, flow.undecided, flow.reasons, flow.edits)
    pkt = apply_edits(flow.pkt, rel.edits) if rel.edits else flow.pkt
    reasons = flow.reasons + rel.reasons if rel.reasons else flow.reasons
    undecided = flow.undecided | rel.undecided if rel.undecided else flow.undecided
    return Flow(pkt, flow.steps + rel.steps, undecided, reasons, flow.edits + rel.edits)


def walk_table(
    table: Table | None,
    chain_name: str,
    flow: Flow,
    ctx: Context,
    redirect_to: int | None = None,
    always_policy: bool = False,
) -> list[Branch]:
    """One walk without a memo (tests and one-off questions)."""
    return Walker(ctx).walk_table(table, chain_name, flow, redirect_to, always_policy)
