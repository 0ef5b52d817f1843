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
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.exposure.matches import evaluate
from auditor.exposure.packet import Context, Packet, with_dnat
from auditor.exposure.rules import Chain, Rule, Table

MAX_DEPTH = 64
ACCEPT, DROP, UNKNOWN = "ACCEPT", "DROP", "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened to the packet: a rule that applied, a chain's policy, a
    routing decision or a listening proxy (``table`` is ``route`` / ``socket`` for those)."""

    table: str
    chain: str
    rule: int  # 1-based; 0 for a policy, a route or a socket
    action: str
    undecided: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class Flow:
    """A packet on its way, with what happened to it and which undecided rules it assumed."""

    pkt: Packet
    steps: tuple[Step, ...] = ()
    undecided: frozenset[str] = frozenset()
    reasons: tuple[str, ...] = ()

    def then(self, step: Step, undecided: str | None = None, pkt: Packet | None = None) -> Flow:
        return Flow(
            pkt if pkt is not None else self.pkt,
            self.steps + (step,),
            self.undecided | {undecided} if undecided else self.undecided,
            self.reasons,
        )


@dataclass(frozen=True, slots=True)
class Branch:
    """How a walk of one table ended: ACCEPT (go on, maybe with a rewritten packet), DROP or
    UNKNOWN (``flow.reasons`` says why)."""

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
            out[key] = Branch(b.verdict, Flow(f.pkt, f.steps, f.undecided | b.flow.undecided, reasons))
    return list(out.values())


def _step(table: Table, chain: Chain, rule: Rule, undecided: bool) -> Step:
    return Step(table.name, chain.name, rule.number, rule.target.label(), undecided, rule.text)


def _unknown(flow: Flow, reason: str) -> Branch:
    return Branch(UNKNOWN, Flow(flow.pkt, flow.steps, flow.undecided, flow.reasons + (reason,)))


def _apply(
    table: Table, rule: Rule, flow: Flow, ctx: Context, depth: int, redirect_to: int | None
) -> tuple[list[Branch], list[Flow], list[Flow]]:
    """The target of a rule that matched: (verdicts, flows that go on in this chain, flows
    that return from this chain)."""
    target = rule.target
    kind = target.kind
    pkt = flow.pkt
    if kind in (ACCEPT, DROP):
        return [Branch(kind, flow)], [], []
    if kind == "RETURN":
        return [], [], [flow]
    if kind in ("JUMP", "GOTO"):
        sub = table.chain(target.chain or "")
        if sub is None:
            return [_unknown(flow, f"{rule.ref}: jump to a missing chain {target.chain}")], [], []
        terms, rets = walk_chain(table, sub, 0, flow, ctx, depth + 1, redirect_to)
        return (terms, rets, []) if kind == "JUMP" else (terms, [], rets)
    if kind == "DNAT":
        dst = target.to_addr if target.to_addr is not None else pkt.dst
        port = target.to_port if target.to_port is not None else pkt.dport
        return [Branch(ACCEPT, Flow(with_dnat(pkt, dst, port), flow.steps, flow.undecided, flow.reasons))], [], []
    if kind == "REDIRECT":
        if redirect_to is None:
            return [_unknown(flow, f"{rule.ref}: REDIRECT on a packet without an input address")], [], []
        port = target.to_port if target.to_port is not None else pkt.dport
        return [Branch(ACCEPT, Flow(with_dnat(pkt, redirect_to, port), flow.steps, flow.undecided, flow.reasons))], [], []
    if kind == "SNAT":
        return [Branch(ACCEPT, Flow(replace(pkt, snat=True), flow.steps, flow.undecided, flow.reasons))], [], []
    if kind == "NOTRACK":
        return [], [Flow(replace(pkt, ctstate="UNTRACKED"), flow.steps, flow.undecided, flow.reasons)], []
    if kind in ("MARK", "CONTINUE"):
        return [], [flow], []
    return [_unknown(flow, f"{rule.ref}: {target.note or 'target ' + target.name + ' not modelled'}")], [], []


def walk_chain(
    table: Table, chain: Chain, start: int, flow: Flow, ctx: Context, depth: int = 0, redirect_to: int | None = None
) -> tuple[list[Branch], list[Flow]]:
    """Walk ``chain`` from rule index ``start``: (verdicts reached, flows that fell off the
    end or returned)."""
    if depth > MAX_DEPTH:
        return [_unknown(flow, f"{table.name} {chain.name}: chains nested deeper than {MAX_DEPTH}")], []
    terminals: list[Branch] = []
    returns: list[Flow] = []
    pkt = flow.pkt
    for rule in chain.candidates(pkt):
        if rule.number <= start:
            continue
        hit = evaluate(rule.matches, pkt, ctx)
        if hit is False or rule.target.kind == "CONTINUE":
            continue
        undecided = hit is None
        taken = flow.then(_step(table, chain, rule, undecided), rule.ref if undecided else None)
        terms, conts, rets = _apply(table, rule, taken, ctx, depth, redirect_to)
        terminals.extend(terms)
        returns.extend(rets)
        if undecided:
            flow = Flow(flow.pkt, flow.steps, flow.undecided | {rule.ref}, flow.reasons)
        elif not conts:
            return terminals, returns
        same = [c for c in conts if c.pkt == pkt]
        other = [c for c in conts if c.pkt != pkt]
        for c in other:  # the rule changed the packet (NOTRACK): go on with the new one
            sub_terms, sub_rets = walk_chain(table, chain, rule.number, c, ctx, depth, redirect_to)
            terminals.extend(sub_terms)
            returns.extend(sub_rets)
        if not undecided:
            if not same:
                return terminals, returns
            flow = same[0]  # came back from a jump: go on with its steps
            extra = frozenset().union(*(c.undecided for c in same[1:])) if len(same) > 1 else frozenset()
            if extra:
                flow = Flow(flow.pkt, flow.steps, flow.undecided | extra, flow.reasons)
        else:
            for c in same:  # the matched branch came back: the same packet goes on
                flow = Flow(flow.pkt, flow.steps, flow.undecided | c.undecided, flow.reasons)
    returns.append(flow)
    return terminals, returns


def walk_table(
    table: Table | None, chain_name: str, flow: Flow, ctx: Context, redirect_to: int | None = None, always_policy: bool = False
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
    terminals, returns = walk_chain(table, chain, 0, flow, ctx, 0, redirect_to)
    policy = chain.policy or ACCEPT
    for f in returns:
        if chain.rules or policy != ACCEPT or always_policy:
            f = f.then(Step(table.name, chain.name, 0, f"policy {policy}"))
        terminals.append(Branch(policy, f))
    return merge(terminals)
