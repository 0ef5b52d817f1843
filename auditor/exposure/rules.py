"""The rule set as the model evaluates it: tables of chains of rules, indexed for speed.

Both readers (``iptables-save`` text and ``nft -j`` JSON) produce these records, so one
evaluator walks both. A chain keeps an index from the exact value a rule requires (its
destination port, destination host, output or input interface) to the rules that require
it: a rule skipped by the index has a known match that is false, so skipping it cannot change
a three-valued answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.exposure.matches import Addr, Iface, Match, Ports, Unknown
from auditor.exposure.packet import Packet, prefix_mask

# Targets that end the walk of the current table (a verdict) and those that let it go on.
TERMINAL = frozenset({"ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT"})
CONTINUE = frozenset(
    {
        "LOG",
        "NFLOG",
        "ULOG",
        "TRACE",
        "TCPMSS",
        "CHECKSUM",
        "TOS",
        "DSCP",
        "TTL",
        "HL",
        "ECN",
        "CLASSIFY",
        "SECMARK",
        "CONNSECMARK",
        "AUDIT",
        "IDLETIMER",
        "LED",
        "RATEEST",
        "TEE",
        "SET",
        "CT",
        "NONE",
    }
)
MARKING = frozenset({"MARK", "CONNMARK"})
INDEX_MIN_RULES = 8


@dataclass(frozen=True, slots=True)
class Target:
    """What a rule does when it matches. ``kind`` is the canonical verb:
    ACCEPT, DROP (also REJECT), RETURN, JUMP, GOTO, DNAT, REDIRECT, SNAT (also MASQUERADE),
    NOTRACK, MARK, CONTINUE (LOG and other non-terminating targets), UNKNOWN."""

    kind: str
    name: str  # as written: DROP, REJECT, DOCKER-USER, LOG ...
    chain: str | None = None
    to_addr: int | None = None
    to_port: int | None = None
    mark: int | None = None
    note: str = ""

    def label(self) -> str:
        if self.kind == "DNAT" and self.to_addr is not None:
            return f"DNAT {self.note}"
        if self.kind in ("JUMP", "GOTO"):
            return f"-> {self.chain}" if self.kind == "JUMP" else f"goto {self.chain}"
        return self.name


@dataclass(frozen=True)
class Rule:
    """One rule; ``number`` is its 1-based position in its chain, ``text`` the dump's line."""

    table: str
    chain: str
    number: int
    text: str
    matches: tuple[Match, ...]
    target: Target

    @property
    def unknown(self) -> tuple[str, ...]:
        reasons = [m.reason for m in self.matches if isinstance(m, Unknown)]
        if self.target.kind == "UNKNOWN":
            reasons.append(self.target.note or f"target {self.target.name}")
        return tuple(reasons)

    @property
    def ref(self) -> str:
        return f"{self.table} {self.chain} rule {self.number}"


def _index_key(rule: Rule) -> tuple | None:
    """The most selective exact value this rule requires, if any."""
    best: tuple | None = None
    rank = 9
    for m in rule.matches:
        if isinstance(m, Addr) and m.field == "dst" and not m.negate:
            if m.mask == prefix_mask(m.family, 32 if m.family == 4 else 128) and rank > 0:
                best, rank = ("dst", m.family, m.network), 0
        elif isinstance(m, Ports) and m.field == "dport" and not m.negate and len(m.ranges) == 1:
            lo, hi = m.ranges[0]
            if lo == hi and rank > 1:
                best, rank = ("dport", lo), 1
        elif isinstance(m, Iface) and not m.negate and not m.prefix:
            key = ("oif" if m.outgoing else "iif", m.name)
            if rank > (2 if m.outgoing else 3):
                best, rank = key, 2 if m.outgoing else 3
    return best


@dataclass(frozen=True)
class Chain:
    """A chain; ``policy`` is ACCEPT or DROP for a built-in chain, ``None`` for a user chain
    (whose end returns to the caller)."""

    name: str
    policy: str | None
    rules: tuple[Rule, ...]
    _always: tuple[int, ...] | None = field(default=None, compare=False, repr=False)
    _buckets: dict | None = field(default=None, compare=False, repr=False)
    _picked: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.rules) < INDEX_MIN_RULES:
            return
        always: list[int] = []
        buckets: dict[tuple, list[int]] = {}
        for i, rule in enumerate(self.rules):
            key = _index_key(rule)
            if key is None:
                always.append(i)
            else:
                buckets.setdefault(key, []).append(i)
        object.__setattr__(self, "_always", tuple(always))
        object.__setattr__(self, "_buckets", {k: tuple(v) for k, v in buckets.items()})

    def candidates(self, pkt: Packet) -> tuple[Rule, ...] | list[Rule]:
        """The rules that may match ``pkt``, in order (all of them for a short chain)."""
        buckets, always = self._buckets, self._always
        if buckets is None or always is None:
            return self.rules
        found = [
            b
            for b in (
                buckets.get(("dst", pkt.family, pkt.dst)),
                buckets.get(("dport", pkt.dport)),
                buckets.get(("oif", pkt.oif)),
                buckets.get(("iif", pkt.iif)),
            )
            if b
        ]
        if not found:
            key: tuple = always
        elif len(found) == 1 and not always:
            key = found[0]
        else:
            key = tuple(sorted(always + tuple(i for b in found for i in b)))
        cached = self._picked.get(key)  # by the positions picked: few distinct lists per chain
        if cached is None:
            rules = self.rules
            cached = tuple(rules[i] for i in key)
            if len(self._picked) < 100_000:
                self._picked[key] = cached
        return cached


@dataclass(frozen=True)
class Table:
    """One table (``filter``, ``nat``...); ``problems`` are lines that could not be read,
    which make every walk through the table unknown."""

    name: str
    chains: tuple[Chain, ...]
    problems: tuple[str, ...] = ()
    _by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.chains})

    def chain(self, name: str) -> Chain | None:
        return self._by_name.get(name)


@dataclass(frozen=True)
class Ruleset:
    """The iptables (or ip6tables) rules of one address family.

    ``backend`` is ``nf_tables`` or ``legacy`` when the dump's header says so.
    ``incompatible`` names tables the dump could not show (nft rules iptables cannot print);
    ``warnings`` keeps the dump's own warnings, e.g. that legacy tables are also present.
    """

    family: int
    tables: tuple[Table, ...]
    backend: str | None = None
    warnings: tuple[str, ...] = ()
    incompatible: tuple[str, ...] = ()

    def table(self, name: str) -> Table | None:
        for t in self.tables:
            if t.name == name:
                return t
        return None

    @property
    def sets_marks(self) -> bool:
        return any(r.target.kind == "MARK" for t in self.tables for c in t.chains for r in c.rules)

    @property
    def rule_count(self) -> int:
        return sum(len(c.rules) for t in self.tables for c in t.chains)
