"""Read ``nft -j list ruleset``: find the nftables tables that are not iptables' own.

With the iptables-nft back end, ``iptables-save`` already shows the tables ``ip filter``,
``ip nat``... (the compatibility tables). Any other table with a base chain on a hook that
Docker traffic crosses (firewalld's ``inet firewalld``, a hand-written ``inet filter``,
Docker 28's nftables back end) also decides that traffic. Its rules are translated into the
same records as iptables rules where the expressions are simple (interfaces, addresses,
ports, protocol, conntrack state/status/direction/original tuple, ``fib daddr type``, sets,
accept/drop/reject/jump/goto/return, dnat/snat/masquerade); anything else becomes an
unknown match or target, so the answers that cross it are unknown, never "blocked".
Bridge, netdev and arp family base chains are not translated: they are listed as
``opaque`` hooks and make the paths that cross them unknown.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import msgspec

from auditor.exposure.iptables import BUILTIN_CHAINS
from auditor.exposure.matches import (
    Addr,
    AddrType,
    All,
    AnyOf,
    CtDir,
    CtState,
    Family,
    Iface,
    Match,
    Ports,
    Proto,
    Range,
    Tracked,
    Unknown,
)
from auditor.exposure.packet import prefix_mask
from auditor.exposure.rules import Chain, Rule, Table, Target
from auditor.model.jsontext import loads

HOOKS = ("prerouting", "input", "forward", "output", "postrouting")
FAMILIES = {"ip": (4,), "ip6": (6,), "inet": (4, 6)}


class BaseChain(msgspec.Struct, frozen=True):
    """A chain attached to a hook: where and when netfilter runs it."""

    family: str
    table: str
    chain: str
    hook: str
    priority: int
    type: str  # filter | nat | route
    policy: str  # ACCEPT | DROP


class ForeignTable(msgspec.Struct, frozen=True):
    """A table that is not one of iptables' own, translated for the evaluator."""

    family: str
    name: str
    table: Table
    base_chains: tuple[BaseChain, ...]

    @property
    def families(self) -> tuple[int, ...]:
        return FAMILIES.get(self.family, ())

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(r for c in self.table.chains for rule in c.rules for r in rule.unknown)


class NftRuleset(msgspec.Struct, frozen=True):
    """What ``nft -j list ruleset`` adds to the iptables dumps.

    ``compat`` lists the (family, table) pairs left to ``iptables-save``; ``foreign`` the
    translated others; ``opaque`` base chains of families the model does not follow
    (bridge, netdev, arp) that have rules or a drop policy.
    """

    tables: tuple[tuple[str, str], ...]
    compat: tuple[tuple[str, str], ...]
    foreign: tuple[ForeignTable, ...]
    opaque: tuple[BaseChain, ...]
    problems: tuple[str, ...] = ()


class _Untranslatable(ValueError):
    pass


def _describe(node: Any) -> str:
    text = json.dumps(node, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 120 else text[:117] + "..."


def _addr_value(field: str, value: Any, family: int, negate: bool, sets: dict[str, list]) -> Match:
    if isinstance(value, str) and value.startswith("@"):
        if value[1:] not in sets:
            raise _Untranslatable(f"set {value}")
        return AnyOf(tuple(_addr_value(field, v, family, False, sets) for v in sets[value[1:]]), negate)
    if isinstance(value, str):
        ip = ipaddress.ip_address(value)
        if ip.version != family:
            raise _Untranslatable(f"address {value}")
        return Addr(field, family, int(ip), prefix_mask(family, 32 if family == 4 else 128), negate)
    if isinstance(value, dict) and "prefix" in value:
        ip = ipaddress.ip_address(value["prefix"]["addr"])
        mask = prefix_mask(family, int(value["prefix"]["len"]))
        return Addr(field, family, int(ip) & mask, mask, negate)
    if isinstance(value, dict) and "range" in value:
        low, high = (ipaddress.ip_address(v) for v in value["range"])
        return Range(field, family, int(low), int(high), negate)
    if isinstance(value, dict) and "set" in value:
        return AnyOf(tuple(_addr_value(field, v, family, False, sets) for v in value["set"]), negate)
    raise _Untranslatable(_describe(value))


def _port_ranges(value: Any, sets: dict[str, list]) -> tuple[tuple[int, int], ...]:
    if isinstance(value, str) and value.startswith("@") and value[1:] in sets:
        return tuple(r for v in sets[value[1:]] for r in _port_ranges(v, sets))
    if isinstance(value, int):
        return ((value, value),)
    if isinstance(value, dict) and "range" in value:
        low, high = (int(v) for v in value["range"])
        return ((low, high),)
    if isinstance(value, dict) and "set" in value:
        return tuple(r for v in value["set"] for r in _port_ranges(v, sets))
    raise _Untranslatable(_describe(value))


def _strings(value: Any, sets: dict[str, list]) -> list[str]:
    if isinstance(value, str) and value.startswith("@") and value[1:] in sets:
        return [s for v in sets[value[1:]] for s in _strings(v, sets)]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict) and "set" in value:
        return [s for v in value["set"] for s in _strings(v, sets)]
    raise _Untranslatable(_describe(value))


def _ports_for_compare(op: str, value: int) -> tuple[tuple[int, int], ...]:
    bounds = {"<": (0, value - 1), "<=": (0, value), ">": (value + 1, 65535), ">=": (value, 65535)}
    return (bounds[op],)


def _iface(outgoing: bool, names: list[str], negate: bool) -> Match:
    options = tuple(
        Iface(outgoing, n[:-1], True, False)
        if n.endswith("*") and not n.endswith("\\*")
        else Iface(outgoing, n.replace("\\*", "*"), False, False)
        for n in names
    )
    return options[0] if len(options) == 1 and not negate else AnyOf(options, negate)


def translate_match(node: dict, family_hint: tuple[int, ...], sets: dict[str, list]) -> Match:
    """One nft ``match`` expression as a model match (``Unknown`` when it is not simple)."""
    try:
        return _translate_match(node, family_hint, sets)
    except (_Untranslatable, ValueError, KeyError, TypeError) as exc:
        return Unknown(f"nft match {_describe(node)} ({exc})" if str(exc) else f"nft match {_describe(node)}")


def _translate_match(node: dict, family_hint: tuple[int, ...], sets: dict[str, list]) -> Match:
    op = node.get("op", "==")
    left: Any = node.get("left")
    right: Any = node.get("right")
    negate = op == "!="
    if op not in ("==", "!=", "in") and not (op in ("<", "<=", ">", ">=") and isinstance(right, int)):
        raise _Untranslatable(f"operator {op}")
    if not isinstance(left, dict) or len(left) != 1:
        raise _Untranslatable("left side")
    ((kind, spec),) = left.items()
    if kind == "meta":
        key = spec.get("key")
        if key in ("iifname", "oifname", "iif", "oif"):
            return _iface(key.startswith("o"), _strings(right, sets), negate)
        if key in ("l4proto", "protocol") and key == "l4proto":
            protos = [
                p if not str(p).isdigit() else {"6": "tcp", "17": "udp"}.get(str(p), str(p))
                for p in _strings(right, sets)
                if p
            ]
            options = tuple(Proto(str(p), False) for p in protos)
            return options[0] if len(options) == 1 and not negate else AnyOf(options, negate)
        if key == "nfproto":
            fams = {"ipv4": 4, "ipv6": 6}
            families = tuple(Family(fams[p], False) for p in _strings(right, sets))
            return families[0] if len(families) == 1 and not negate else AnyOf(families, negate)
        raise _Untranslatable(f"meta {key}")
    if kind == "payload":
        proto, field = spec.get("protocol"), spec.get("field")
        if proto in ("ip", "ip6") and field in ("saddr", "daddr"):
            fam = 4 if proto == "ip" else 6
            return _and(
                Family(fam, False),
                _addr_value("src" if field == "saddr" else "dst", right, fam, negate, sets),
            )
        if proto in ("ip", "ip6") and field in ("protocol", "nexthdr"):
            options = tuple(Proto(p, False) for p in _strings(right, sets))
            return _and(
                Family(4 if proto == "ip" else 6, False),
                options[0] if len(options) == 1 and not negate else AnyOf(options, negate),
            )
        if proto in ("tcp", "udp", "th") and field in ("dport", "sport"):
            ranges = (
                _ports_for_compare(op, int(right))
                if op in ("<", "<=", ">", ">=")
                else _port_ranges(right, sets)
            )
            return Ports(field, ranges, negate, None if proto == "th" else proto)
        raise _Untranslatable(f"payload {proto} {field}")
    if kind == "ct":
        key, direction = spec.get("key"), spec.get("dir")
        if key == "state" and direction is None:
            return CtState(frozenset(s.upper() for s in _strings(right, sets)), negate)
        if key == "status" and direction is None:
            statuses = {s.upper() for s in _strings(right, sets)}
            if statuses <= {"DNAT", "SNAT"}:
                return CtState(frozenset(statuses), negate)
        if key == "direction" and direction is None:
            values = _strings(right, sets)
            if values in (["original"], ["reply"]):
                return CtDir(values == ["reply"], negate)
        if direction in ("original", "reply"):
            prefix = "orig_" if direction == "original" else "repl_"
            if key in ("ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr", "saddr", "daddr"):
                fam = (
                    6
                    if key.startswith("ip6")
                    else 4
                    if key.startswith("ip ")
                    else (family_hint[0] if len(family_hint) == 1 else 0)
                )
                if fam == 0:
                    raise _Untranslatable("ct address of an unknown family")
                field = prefix + ("src" if key.endswith("saddr") else "dst")
                return Tracked(_addr_value(field, right, fam, negate, sets))  # type: ignore[arg-type]
            if key in ("proto-src", "proto-dst"):
                field = prefix + ("sport" if key == "proto-src" else "dport")
                ranges = (
                    _ports_for_compare(op, right)
                    if op in ("<", "<=", ">", ">=")
                    else _port_ranges(right, sets)
                )
                return Tracked(Ports(field, ranges, negate))
        raise _Untranslatable(f"ct {key}")
    if kind == "fib":
        flags = spec.get("flags") or []
        if spec.get("result") == "type" and flags in (["daddr"], ["saddr"]):
            types = frozenset(t.upper() for t in _strings(right, sets))
            return AddrType("dst" if flags == ["daddr"] else "src", types, negate)
        raise _Untranslatable("fib lookup")
    raise _Untranslatable(kind)


def _and(first: Match, second: Match) -> Match:
    """nft adds an implicit family dependency to address matches (``ip saddr`` on an IPv6
    packet does not match, whatever the operator)."""
    return All((first, second))


_IGNORED_STATEMENTS = frozenset({"counter", "log", "comment", "set", "map"})  # no effect on the verdict
_CONDITIONS = frozenset({"limit", "quota", "ct count", "synproxy"})  # pass or stop the rule: undecided


def translate_rule(
    table_name: str,
    chain: str,
    number: int,
    expr: list,
    family_hint: tuple[int, ...],
    sets: dict[str, list],
    chains: set[str],
) -> Rule:
    """One nft rule as a model rule; the first verdict statement ends it."""
    matches: list[Match] = []
    target = Target("CONTINUE", "NONE")
    for statement in expr:
        if not isinstance(statement, dict) or len(statement) != 1:
            matches.append(Unknown(f"nft statement {_describe(statement)}"))
            continue
        ((kind, spec),) = statement.items()
        if kind == "match":
            matches.append(translate_match(spec, family_hint, sets))
        elif kind in _IGNORED_STATEMENTS:
            continue
        elif kind in ("accept", "drop", "reject", "return"):
            target = Target({"reject": "DROP"}.get(kind, kind.upper()), kind.upper())
            break
        elif kind in ("jump", "goto"):
            name = (spec or {}).get("target", "")
            target = (
                Target("JUMP" if kind == "jump" else "GOTO", name, chain=name)
                if name in chains
                else Target("UNKNOWN", kind, note=f"{kind} to missing chain {name}")
            )
            break
        elif kind == "continue":
            continue
        elif (
            kind == "dnat"
            and isinstance(spec, dict)
            and isinstance(spec.get("addr", ""), str)
            and isinstance(spec.get("port", 0), int)
        ):
            try:
                addr = int(ipaddress.ip_address(spec["addr"])) if spec.get("addr") else None
            except ValueError:
                target = Target("UNKNOWN", "dnat", note=f"nft dnat {_describe(spec)}")
                break
            port = spec.get("port")
            note = f"{spec.get('addr', '')}{':' + str(port) if port else ''}"
            target = Target("DNAT", "dnat", to_addr=addr, to_port=port, note=note)
            break
        elif kind in ("snat", "masquerade"):
            target = Target("SNAT", kind.upper())
            break
        elif kind == "redirect" and (spec is None or isinstance((spec or {}).get("port", 0), int)):
            target = Target("REDIRECT", "redirect", to_port=(spec or {}).get("port"))
            break
        elif kind in _CONDITIONS or (kind == "xt" and (spec or {}).get("type") == "match"):
            matches.append(Unknown(f"nft {kind} {_describe(spec)}"))
        elif kind == "notrack":
            target = Target(
                "NOTRACK", "notrack"
            )  # then the rule's other statements, if any, are not followed
            break
        elif kind == "mangle":
            target = Target("MARK", "mangle")  # sets a mark; marks are then not decided
        else:
            target = Target("UNKNOWN", kind, note=f"nft statement {_describe(statement)}")
            break
    return Rule(table_name, chain, number, _describe(expr), tuple(matches), target)


def parse_nft_json(text: str, iptables_nft: bool = True) -> NftRuleset:
    """Parse ``nft -j list ruleset``. ``iptables_nft``: whether iptables uses the nf_tables
    back end (then ``ip filter``, ``ip nat``... belong to iptables and are read from
    ``iptables-save``); with the legacy back end every nft table is foreign."""
    doc = loads(text)
    items = doc.get("nftables", []) if isinstance(doc, dict) else []
    tables: list[tuple[str, str]] = []
    chains: dict[tuple[str, str], list[dict]] = {}
    rules: dict[tuple[str, str, str], list[list]] = {}
    sets: dict[tuple[str, str], dict[str, list]] = {}
    problems: list[str] = []
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        ((kind, spec),) = item.items()
        if not isinstance(spec, dict):
            continue
        fam, tab = str(spec.get("family", "")), str(spec.get("table", spec.get("name", "")))
        if kind == "table":
            tables.append((fam, str(spec.get("name", ""))))
        elif kind == "chain":
            chains.setdefault((fam, tab), []).append(spec)
        elif kind == "rule":
            rules.setdefault((fam, tab, str(spec.get("chain", ""))), []).append(spec.get("expr") or [])
        elif kind == "set":
            elems = spec.get("elem")
            if isinstance(elems, list) and all(
                isinstance(e, (str, int)) or (isinstance(e, dict) and set(e) <= {"prefix", "range"})
                for e in elems
            ):
                sets.setdefault((fam, tab), {})[str(spec.get("name", ""))] = elems
            elif elems is None:
                sets.setdefault((fam, tab), {})[str(spec.get("name", ""))] = []
    compat: list[tuple[str, str]] = []
    foreign: list[ForeignTable] = []
    opaque: list[BaseChain] = []
    for fam, name in tables:
        if iptables_nft and fam in ("ip", "ip6") and name in BUILTIN_CHAINS:
            compat.append((fam, name))
            continue
        specs = chains.get((fam, name), [])
        names = {c.get("name", "") for c in specs}
        table_sets = sets.get((fam, name), {})
        bases: list[BaseChain] = []
        built: list[Chain] = []
        for spec in specs:
            cname = spec.get("name", "")
            policy = str(spec.get("policy", "accept")).upper() if spec.get("hook") else None
            exprs = rules.get((fam, name, cname), [])
            if spec.get("hook"):
                try:
                    prio = int(spec.get("prio", 0))
                except (TypeError, ValueError):
                    prio = 0
                    problems.append(f"{fam} {name} {cname}: priority {spec.get('prio')!r}")
                base = BaseChain(
                    fam,
                    name,
                    cname,
                    str(spec["hook"]),
                    prio,
                    str(spec.get("type", "filter")),
                    policy or "ACCEPT",
                )
                if fam not in FAMILIES:
                    if exprs or base.policy != "ACCEPT":
                        opaque.append(base)
                    continue
                bases.append(base)
            hint = FAMILIES.get(fam, ())
            built.append(
                Chain(
                    cname,
                    policy,
                    tuple(
                        translate_rule(f"{fam} {name}", cname, i, e, hint, table_sets, names)
                        for i, e in enumerate(exprs, 1)
                    ),
                )
            )
        if fam in FAMILIES:
            foreign.append(ForeignTable(fam, name, Table(f"{fam} {name}", tuple(built)), tuple(bases)))
    return NftRuleset(tuple(tables), tuple(compat), tuple(foreign), tuple(opaque), tuple(problems))
