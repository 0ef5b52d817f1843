"""The netfilter paths a connection attempt to a container port takes, hook by hook.

A packet arriving on an interface: PREROUTING (raw, mangle, nat: DNAT), the routing decision
(local or forwarded, from the host's addresses, routes and sysctls), then either FORWARD
(mangle, filter: DOCKER-USER, DOCKER-ISOLATION-*, DOCKER...) and POSTROUTING, or INPUT and a
listening socket (``docker-proxy``, a host-network container). A packet from a local process:
OUTPUT (raw, mangle, nat: DNAT, reroute, filter), POSTROUTING, and over loopback PREROUTING
(without nat) and INPUT. A frame between two containers of one bridge passes iptables only
with ``bridge-nf-call-iptables=1``. A connection counts as reachable when its first packet
arrives at the container's address and port *and* the first reply gets back (conntrack state
ESTABLISHED on the way back, no nat).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, NamedTuple, cast

import msgspec

from auditor.exposure.attempts import AttemptTag, Getter, Observation
from auditor.exposure.facts import FirewallFacts, HostNetwork
from auditor.exposure.hostnet import ProxyListener, Route
from auditor.exposure.matches import CtState
from auditor.exposure.matrix import join_trace, parts_concatenate, render_trace, trace_parts
from auditor.exposure.packet import Context, Packet, first_packet, ip_int, ip_text, reply_to
from auditor.exposure.rules import Ruleset, Table
from auditor.exposure.transport import (
    ADDRESS_FIELDS,
    DELIVER,
    END,
    FIELD_INDEX,
    FORWARD_TAGGED,
    REPLY_TAGGED,
    SOCKET,
    Item,
    Recorder,
    Tag,
    TransportMemo,
    edited_fields,
    replay,
    store,
)
from auditor.exposure.walk import (
    ACCEPT,
    DROP,
    UNKNOWN,
    Branch,
    Flow,
    LazyMemo,
    Projector,
    Step,
    Walker,
    closure,
    compose,
)

REACHABLE, BLOCKED = "REACHABLE", "BLOCKED"
MAX_BRANCHES = 256
PROXY_SPORT = 45000

# (table, priority) per hook for iptables' own tables (legacy and nft back ends alike).
HOOK_TABLES = {
    "PREROUTING": (("raw", -300), ("mangle", -150), ("nat", -100)),
    "INPUT": (("mangle", -150), ("filter", 0), ("security", 50), ("nat", 100)),
    "FORWARD": (("mangle", -150), ("filter", 0), ("security", 50)),
    "OUTPUT": (("raw", -300), ("mangle", -150), ("nat", -100), ("filter", 0), ("security", 50)),
    "POSTROUTING": (("mangle", -150), ("nat", 100)),
}
FILTERING_TABLES = frozenset({"filter", "security"})


class Stage(msgspec.Struct, frozen=True):
    """One table's chain on one hook; ``opaque`` names why it cannot be evaluated."""

    priority: int
    label: str
    table: Table | None
    chain: str
    nat: bool
    filtering: bool
    opaque: str | None = None
    transparent: bool = False  # source NAT only: cannot block, so it is not walked


class Goal(msgspec.Struct, frozen=True):
    """Where the connection must arrive: one of a container's addresses (family, address,
    bridge) on ``port``, or the host itself (a host-network container)."""

    proto: str
    port: int
    addresses: frozenset[tuple[int, int, str]] = frozenset()
    on_host: bool = False

    def bridge_of(self, family: int, address: int) -> str | None:
        for fam, addr, bridge in self.addresses:
            if fam == family and addr == address:
                return bridge
        return None

    def has_address(self, family: int, address: int) -> bool:
        return self.bridge_of(family, address) is not None


def _stages_for(family: int, hook: str, firewall: FirewallFacts, snat_state: bool) -> tuple[Stage, ...]:
    stages: list[Stage] = []
    name = "iptables-save" if family == 4 else "ip6tables-save"
    rulesets: list[tuple[str, Ruleset | None]] = [("", firewall.ruleset(family))]
    if firewall.legacy(family) is not None:
        rulesets.append(("legacy ", firewall.legacy(family)))
    for prefix, ruleset in rulesets:
        for table_name, prio in HOOK_TABLES[hook]:
            nat = table_name == "nat"
            label = prefix + table_name
            if ruleset is None:
                stages.append(
                    Stage(
                        prio, label, None, hook, nat, table_name in FILTERING_TABLES, f"{name} was not read"
                    )
                )
            elif table_name in ruleset.incompatible:
                reason = f"{name}: table {table_name} holds nft rules iptables cannot show"
                stages.append(Stage(prio, label, None, hook, nat, table_name in FILTERING_TABLES, reason))
            else:
                table = ruleset.table(table_name)
                if table is not None:
                    stages.append(Stage(prio, label, table, hook, nat, table_name in FILTERING_TABLES))
    nft = firewall.nft
    for foreign in nft.foreign if nft else ():
        if family not in foreign.families:
            continue
        for base in foreign.base_chains:
            if base.hook.upper() != hook:
                continue
            opaque = (
                None
                if base.type in ("filter", "nat")
                else f"nft chain {foreign.table.name} {base.chain} of type {base.type}"
            )
            stages.append(
                Stage(
                    base.priority,
                    foreign.table.name,
                    foreign.table,
                    base.chain,
                    base.type == "nat",
                    base.type == "filter",
                    opaque,
                )
            )
    stages.sort(key=lambda s: s.priority)  # stable: iptables' tables first on equal priority
    if hook in ("POSTROUTING", "INPUT") and not snat_state:
        stages = [msgspec.structs.replace(s, transparent=_source_nat_only(s)) if s.nat else s for s in stages]
    return tuple(stages)


_SOURCE_NAT_TARGETS = frozenset({"SNAT", "ACCEPT", "RETURN", "CONTINUE", "JUMP", "GOTO"})


def _source_nat_only(stage: Stage) -> bool:
    """A nat stage on POSTROUTING/INPUT whose rules only rewrite sources (MASQUERADE, SNAT)
    with matches the model knows: whatever matches, the packet goes on."""
    if stage.table is None or stage.opaque or stage.table.problems:
        return False
    chain = stage.table.chain(stage.chain)
    if chain is None:
        return True
    if chain.policy not in (None, "ACCEPT"):
        return False
    seen: set[str] = set()
    todo = [chain]
    while todo:
        c = todo.pop()
        if c.name in seen:
            continue
        seen.add(c.name)
        for rule in c.rules:
            if rule.target.kind not in _SOURCE_NAT_TARGETS or rule.unknown:
                return False
            if rule.target.kind in ("JUMP", "GOTO"):
                sub = stage.table.chain(rule.target.chain or "")
                if sub is None:
                    return False
                todo.append(sub)
    return True


def _matches_snat_state(firewall: FirewallFacts) -> bool:
    """Whether any rule asks for conntrack's SNAT state (then source NAT must be followed)."""
    for ruleset in (firewall.v4, firewall.v6, firewall.legacy_v4, firewall.legacy_v6):
        for table in ruleset.tables if ruleset else ():
            for chain in table.chains:
                for rule in chain.rules:
                    if any(isinstance(m, CtState) and "SNAT" in m.states for m in rule.matches):
                        return True
    return any(
        isinstance(m, CtState) and "SNAT" in m.states
        for f in (firewall.nft.foreign if firewall.nft else ())
        for c in f.table.chains
        for r in c.rules
        for m in r.matches
    )


class PathModel:
    """Follows packets of one host through its netfilter hooks; built once per analysis.

    Each path is a transport (``_t_*``: hooks and routing, no goal) and endpoints
    (``_deliver``, ``_socket``, the replies: what the goal decides). Transports are
    remembered by what they read of their first packet (``transport.TransportMemo``), so
    the containers behind the same rules share them.
    """

    # Tests switch these off to compare with every hook walk, chain walk, transport and
    # attempt computed from scratch (tests/exposure/test_memo_equivalence.py).
    memoize_hooks = True
    memoize_chains = True
    memoize_transports = True
    memoize_attempts = True

    def __init__(
        self, firewall: FirewallFacts, network: HostNetwork, proxies: tuple[ProxyListener, ...] | None
    ):
        self.firewall = firewall
        self.network = network
        self.proxies = proxies
        snat_state = _matches_snat_state(firewall)
        self.stages = {(f, h): _stages_for(f, h, firewall, snat_state) for f in (4, 6) for h in HOOK_TABLES}
        local: set[tuple[int, int]] = set()
        broadcast: set[tuple[int, int]] = set()
        self.primary: dict[tuple[str, int], int] = {}
        for iface in network.interfaces or ():
            for a in iface.addresses:
                fam, value = ip_int(a.address)
                local.add((fam, value))
                self.primary.setdefault((iface.name, fam), value)
                if a.broadcast:
                    broadcast.add(ip_int(a.broadcast))
        sets = {name: (kind, members) for name, kind, members in firewall.ipsets}
        marks = any(
            r is not None and r.sets_marks
            for r in (firewall.v4, firewall.v6, firewall.legacy_v4, firewall.legacy_v6)
        )
        self.ctx = Context(
            frozenset(local),
            frozenset(broadcast),
            sets,
            marks_static=not marks and firewall.nft is not None and not firewall.nft.foreign,
        )
        self.routes = {4: tuple(network.routes or ()), 6: tuple(network.routes6 or ())}
        # (network, mask, route), most specific first; among equals the lowest metric, then
        # the first listed (what a scan of the table keeping the best one picks)
        self._route_masks = {
            f: [
                (r.network, r.mask, r)
                for r in sorted(
                    (r for r in self.routes[f] if r.family == f), key=lambda r: (-r.prefixlen, r.metric)
                )
            ]
            for f in (4, 6)
        }
        self.walker = Walker(self.ctx, self.memoize_chains)
        self._forwarding = {
            4: network.sysctl_flag("net.ipv4.ip_forward"),
            6: network.sysctl_flag("net.ipv6.conf.all.forwarding"),
        }
        self._bridge_nf = {
            4: network.sysctl_flag("net.bridge.bridge-nf-call-iptables"),
            6: network.sysctl_flag("net.bridge.bridge-nf-call-ip6tables"),
        }
        self._route_steps: dict[str, Step] = {}
        self._plans: dict[tuple[int, str, int, int, bool], _Plan] = {}
        self._proxy_legs: dict[tuple[ProxyListener, str, Goal], tuple[list[Branch] | None, tuple]] = {}
        self._proxy_steps: dict[tuple[ProxyListener, bool], Step] = {}
        self._simple_suffixes: dict[tuple[ProxyListener, str, Goal], list[Branch]] = {}
        # Traces of remembered answers joined to a target's docker-proxy leg, made from the
        # pieces of both (each rendered once); by id, with the steps kept so the id stays theirs
        self._trace_parts: dict[int, tuple[tuple[Step, ...], list[str]]] = {}
        self._joined_traces: dict[int, tuple[tuple[Step, ...], str]] = {}
        self._listener_indexes: dict[tuple[str, int, int, int], int | None] = {}
        self._route_cache: dict[tuple[int, int], Route | None] = {}
        self._proxies_by_port: dict[tuple[str, int], list[ProxyListener]] = {}
        for proxy in proxies or ():
            self._proxies_by_port.setdefault((proxy.proto, proxy.host_port), []).append(proxy)
        self._listeners_specific = any(p.host_ip not in ("0.0.0.0", "", "::") for p in proxies or ())
        self.opaque_bridge = tuple(
            b for b in (firewall.nft.opaque if firewall.nft else ()) if b.family == "bridge"
        )
        self.opaque_netdev = tuple(
            b for b in (firewall.nft.opaque if firewall.nft else ()) if b.family == "netdev"
        )
        self.bridges: frozenset[str] = frozenset()
        self._transports: dict[str, TransportMemo] = {}
        self._recording: list[Recorder] = []
        self._tag_getters: dict[Tag, Callable[[Packet], Any]] = {}
        self._observers: list[list[Observation]] = []
        self._attempt_getters: dict[AttemptTag, Getter] = {}

    # -- host facts -----------------------------------------------------------------------
    def is_local(self, family: int, value: int) -> bool:
        return self.ctx.addr_type(family, value) == "LOCAL"

    def lookup(self, family: int, value: int) -> Route | None:
        key = (family, value)
        if key in self._route_cache:
            return self._route_cache[key]
        best: Route | None = None
        for network, mask, r in self._route_masks[family]:  # longest prefix first, then metric
            if value & mask == network:
                best = r
                break
        self._route_cache[key] = best
        return best

    def forwarding(self, family: int) -> bool | None:
        return self._forwarding[family]

    def bridge_nf(self, family: int) -> bool | None:
        return self._bridge_nf[family]

    def route_localnet(self, iface: str) -> bool | None:
        values = [self.network.sysctl_flag(f"net.ipv4.conf.{n}.route_localnet") for n in ("all", iface)]
        if True in values:
            return True
        return None if None in values else False

    def source_for(self, family: int, dst: int) -> int | None:
        """The source address the host picks for a connection to ``dst`` (observed)."""
        self._see(("addr", "local", (family, dst)))
        if self.is_local(family, dst):
            self._see(("addr", "lo127", (family, dst)))
            if family == 4 and dst >> 24 == 127:
                return ip_int("127.0.0.1")[1]
            return dst
        self._see(("addr", "route", (family, dst)))
        route = self.lookup(family, dst)
        if route is None:
            return None
        if route.prefsrc:
            return ip_int(route.prefsrc)[1]
        return self.primary.get((route.dev or "", family))

    # -- what a transport read ----------------------------------------------------------
    def _read(self, flow: Flow, field: str, kind: str) -> None:
        if self._recording:
            self._recording[-1].read(flow, field, kind)

    def _tag_getter(self, tag: Tag) -> Callable[[Packet], Any]:
        found = self._tag_getters.get(tag)
        if found is not None:
            return found
        field, kind = tag
        i = FIELD_INDEX[field]
        if kind == "raw":
            found = itemgetter(i)
        elif kind == "local":
            found = lambda pkt: self.is_local(pkt.family, _address(pkt, i))  # noqa: E731
        elif kind == "route":
            found = lambda pkt: self.lookup(pkt.family, _address(pkt, i))  # noqa: E731
        elif kind == "lo127":
            found = lambda pkt: pkt.family == 4 and _address(pkt, i) >> 24 == 127  # noqa: E731
        else:  # a hook's class of the field
            getter, ctx = kind.getter(), self.ctx
            found = lambda pkt: getter(pkt, ctx)  # noqa: E731
        self._tag_getters[tag] = found
        return found

    def _transport(self, kind: str, flow: Flow, compute: Callable[[Flow], list[Item]]) -> list[Item]:
        """``compute`` for ``flow`` (from its first packet's class when one was seen)."""
        if self._recording:
            raise AssertionError("a transport started inside another transport")
        memo = self._transports.get(kind)
        if memo is None:
            tagged = REPLY_TAGGED if kind.startswith("reply") else FORWARD_TAGGED
            memo = self._transports[kind] = TransportMemo(tagged, self._tag_getter)
        pkt = flow.pkt
        found, bucket = memo.lookup(pkt) if self.memoize_transports else (None, None)
        if found is None and (bucket is None or not bucket.enabled) and not self._observers:
            return compute(flow)  # nothing will reuse it: no need to keep it relative
        if found is None:
            recorder = Recorder(memo.tagged)
            self._recording.append(recorder)
            try:
                items = compute(Flow(pkt))
            finally:
                self._recording.pop()
            stored, tags = store(pkt, items), tuple(recorder.tags)
            if bucket is not None:
                memo.put(pkt, bucket, recorder.tags, stored)
        else:
            stored, tags = found
        if self._observers:  # an attempt is being remembered: it read what the transport read
            seen = self._observers[-1]
            for field, tag_kind in tags:
                value = pkt[FIELD_INDEX[field]]
                seen.append(
                    ("addr", tag_kind, (pkt.family, value))
                    if field in ADDRESS_FIELDS
                    else ("port", tag_kind, value)
                )
        return replay(flow, stored)

    # -- what an attempt read -------------------------------------------------------------
    def _see(self, observation: Observation) -> None:
        if self._observers:
            self._observers[-1].append(observation)

    def observing(self) -> _Observing:
        """A context that collects what the paths followed inside it read (``attempts``)."""
        return _Observing(self._observers)

    def attempt_getter(self, tag: AttemptTag) -> Getter:
        """The value of one attempt tag for (family, destination, port, goal)."""
        found = self._attempt_getters.get(tag)
        if found is not None:
            return found
        found = self._make_attempt_getter(tag)
        self._attempt_getters[tag] = found
        return found

    def _make_attempt_getter(self, tag: AttemptTag) -> Getter:
        what = tag[0]
        if what in ("dst", "dport"):
            kind = tag[1]
            if what == "dst":
                value: Callable[[int, int], int] = lambda dst, dport: dst  # noqa: E731
            else:
                value = lambda dst, dport: dport  # noqa: E731
            if kind == "raw":
                return lambda fam, dst, dport, goal: value(dst, dport)
            if kind == "local":
                return lambda fam, dst, dport, goal: self.is_local(fam, dst)
            if kind == "route":
                return lambda fam, dst, dport, goal: self.lookup(fam, dst)
            if kind == "lo127":
                return lambda fam, dst, dport, goal: fam == 4 and dst >> 24 == 127
            classify, ctx = kind.classify(), self.ctx
            return lambda fam, dst, dport, goal: classify(value(dst, dport), fam, ctx)
        if what == "listener":
            _, port_b, dst_b = tag
            port_of = _bound_value(port_b, port=True)
            dst_of = _bound_value(dst_b, port=False)
            return lambda fam, dst, dport, goal: self._listener_index(
                goal.proto, port_of(fam, dst, dport), fam, dst_of(fam, dst, dport)
            )
        _, question, bound = tag
        arg = _bound_value(bound, port=False) if bound is not None else None
        if question == "on_host":
            return lambda fam, dst, dport, goal: goal.on_host
        if question == "port":
            return lambda fam, dst, dport, goal: goal.port
        assert arg is not None
        if question == "bridge_of":
            return lambda fam, dst, dport, goal: goal.bridge_of(*arg(fam, dst, dport))
        if question == "has":
            return lambda fam, dst, dport, goal: goal.has_address(*arg(fam, dst, dport))
        if question == "port_is":
            return lambda fam, dst, dport, goal: goal.port == arg(fam, dst, dport)
        raise ValueError(f"unknown attempt tag {tag!r}")

    # -- hooks ----------------------------------------------------------------------------
    def _plan(self, family: int, hook: str, lo: int, hi: int, nat: bool) -> _Plan:
        """The stages of a hook between two priorities (without nat for packets that are not
        the first of their connection), with their memo."""
        key = (family, hook, lo, hi, nat)
        plan = self._plans.get(key)
        if plan is None:
            stages = tuple(
                s
                for s in self.stages[(family, hook)]
                if lo <= s.priority <= hi and (nat or not s.nat) and not s.transparent
            )
            matches: list = []
            raw = {"ctstate", "reply"}
            for stage in stages:
                chain = (
                    stage.table.chain(stage.chain) if stage.table is not None and not stage.opaque else None
                )
                if chain is not None:
                    closure(stage.table, chain, matches, raw)  # type: ignore[arg-type]
            plan = _Plan(stages, LazyMemo(Projector(matches, raw)))
            plan.memo.enabled = self.memoize_hooks
            self._plans[key] = plan
        return plan

    def hook(
        self,
        family: int,
        hook: str,
        flows: Iterable[Flow],
        nat: bool = True,
        lo: int = -(10**9),
        hi: int = 10**9,
    ) -> tuple[list[Flow], list[Branch]]:
        """Run the stages of a hook with priority in [lo, hi]: (accepted flows, ends).
        A packet the hook's rules treat like one seen before reuses that result."""
        plan = self._plan(family, hook, lo, hi, nat)
        flows = list(flows)
        if not plan.stages:
            return flows, []
        memo = plan.memo
        recorder = self._recording[-1] if self._recording else None
        live: list[Flow] = []
        ends: list[Branch] = []
        for flow in flows:
            relative = memo.get(flow.pkt, self.ctx)
            if relative is None:
                reads = {"ctstate", "reply"}
                rel_live, rel_ends = self._run_stages(plan.stages, Flow(flow.pkt), nat, reads)
                relative = (rel_live, rel_ends, plan.tags(reads))
                memo.put(reads, flow.pkt, self.ctx, relative)
            rel_live, rel_ends, tags = relative
            if recorder is not None:
                recorder.read_all(flow, tags)
            live.extend(compose(flow, f) for f in rel_live)
            ends.extend(Branch(b.verdict, compose(flow, b.flow)) for b in rel_ends)
        return live, ends

    def _run_stages(
        self, stages: tuple[Stage, ...], start: Flow, nat: bool, reads: set[str]
    ) -> tuple[list[Flow], list[Branch]]:
        ends: list[Branch] = []
        live = [start]
        for stage in stages:
            next_live: list[Flow] = []
            for flow in live:
                if stage.nat and (not nat or flow.pkt.ctstate != "NEW"):
                    next_live.append(flow)
                    continue
                if stage.opaque:
                    ends.append(Branch(UNKNOWN, flow.because(stage.opaque)))
                    continue
                redirect = self._redirect_address(flow.pkt) if stage.nat else None
                for b in self.walker.walk_table(
                    stage.table, stage.chain, flow, redirect, stage.filtering and not flow.pkt.reply, reads
                ):
                    label = stage.label
                    if stage.table is not None and label != stage.table.name:
                        b = Branch(b.verdict, _relabel(b.flow, stage.table.name, label))
                    if not stage.filtering and b.verdict == ACCEPT:
                        b = Branch(ACCEPT, _drop_policy_accept(b.flow, label, stage.chain))
                    if b.verdict == ACCEPT:
                        next_live.append(b.flow)
                    else:
                        ends.append(Branch(BLOCKED if b.verdict == DROP else b.verdict, b.flow))
            live = next_live
            if len(live) + len(ends) > MAX_BRANCHES:
                return [], [Branch(UNKNOWN, start.because("too many undecided branches"))]
        return live, ends

    def _redirect_address(self, pkt: Packet) -> int | None:
        if pkt.iif is None:
            return ip_int("127.0.0.1" if pkt.family == 4 else "::1")[1]
        return self.primary.get((pkt.iif, pkt.family))

    # -- paths: a transport, then its endpoints --------------------------------------------
    def arrive(self, flow: Flow, goal: Goal, templates: bool = False) -> list[Branch]:
        """A packet arriving on ``flow.pkt.iif`` from a neighbour (or a container).
        ``templates``: leave docker-proxy sockets as ``SocketTemplate`` (``instantiate``)."""
        return self._expand(self._transport("arrive", flow, self._t_arrive), goal, templates)

    def local_out(self, flow: Flow, goal: Goal, templates: bool = False) -> list[Branch]:
        """A connection opened by a process on the host (a local client, or docker-proxy)."""
        return self._expand(self._transport("local", flow, self._t_local_out), goal, templates)

    def _expand(self, items: list[Item], goal: Goal, templates: bool = False) -> list[Branch]:
        """A transport's items with their endpoints, in the transport's order."""
        out: list[Branch] = []
        for item in items:
            if item.kind == END:
                out.append(Branch(item.verdict, item.flow))
            elif item.kind == DELIVER:
                got = self._deliver(item.flow, item.flow.pkt, goal, item.bridged, item.skip_filter)
                if item.extra:
                    got = [
                        Branch(
                            b.verdict,
                            Flow(b.flow.pkt, b.flow.steps, b.flow.undecided | item.extra, b.flow.reasons),
                        )
                        for b in got
                    ]
                out.extend(got)
            else:
                out.extend(self._socket(item.flow, goal, templates))
        return out

    def _t_arrive(self, flow: Flow) -> list[Item]:
        pkt = flow.pkt
        if pkt.iif in self.bridges and self.opaque_bridge:
            nb = self.opaque_bridge[0]
            return [_end_unknown(flow, f"nft bridge chain {nb.table} {nb.chain}")]
        if self.opaque_netdev:
            nd = self.opaque_netdev[0]
            return [_end_unknown(flow, f"nft netdev chain {nd.table} {nd.chain}")]
        items: list[Item] = []
        if pkt.bridged:
            bnf = self.bridge_nf(pkt.family)
            direct = Item(
                DELIVER,
                flow.then(
                    Step("route", "", 0, f"bridged on {pkt.iif}, iptables not called"),
                    pkt=pkt._replace(oif=pkt.iif),
                ),
                bridged=True,
                skip_filter=True,
            )
            if bnf is False:
                return [direct]
            if bnf is None:
                items.append(direct._replace(extra=frozenset({"net.bridge.bridge-nf-call-iptables"})))
        live, pre_ends = self.hook(pkt.family, "PREROUTING", [flow])
        items.extend(_ends(pre_ends))
        for f in live:
            items.extend(self._t_after_prerouting(f))
        return items

    def _t_after_prerouting(self, flow: Flow) -> list[Item]:
        pkt = flow.pkt
        if pkt.bridged and not pkt.dnat:
            fwd = pkt._replace(oif=pkt.iif)
            return self._t_forward(flow.then(Step("route", "", 0, f"bridged on {pkt.iif}"), pkt=fwd), True)
        pkt = pkt._replace(bridged=False)
        flow = flow._replace(pkt=pkt)
        self._read(flow, "dst", "local")
        if self.is_local(pkt.family, pkt.dst):
            if pkt.family == 4:
                self._read(flow, "dst", "lo127")
            if pkt.family == 4 and pkt.dst >> 24 == 127 and pkt.iif != "lo":
                localnet = self.route_localnet(pkt.iif or "")
                if localnet is None:
                    return [_end_unknown(flow, f"route_localnet of {pkt.iif} not read")]
                if not localnet:
                    self._read(flow, "dst", "raw")
                    where = f"martian destination {ip_text(4, pkt.dst)} on {pkt.iif} (route_localnet=0)"
                    return [Item(END, flow.then(Step("route", "", 0, where)), BLOCKED)]
            return self._t_input(flow.then(Step("route", "", 0, "route local")))
        forwarding = self.forwarding(pkt.family)
        if forwarding is None:
            return [_end_unknown(flow, "ip_forward not read")]
        if not forwarding:
            return [Item(END, flow.then(Step("route", "", 0, "not forwarded (ip_forward=0)")), BLOCKED)]
        self._read(flow, "dst", "route")
        route = self.lookup(pkt.family, pkt.dst)
        if (
            self.network.routes is None
            and pkt.family == 4
            or self.network.routes6 is None
            and pkt.family == 6
        ):
            return [_end_unknown(flow, "routes not read")]
        if route is None or route.type in ("blackhole", "unreachable", "prohibit"):
            self._read(flow, "dst", "raw")
            step = Step("route", "", 0, f"no route to {ip_text(pkt.family, pkt.dst)}")
            return [Item(END, flow.then(step), BLOCKED)]
        out = pkt._replace(oif=route.dev)
        known = self._route_steps.get(route.dev or "")
        if known is None:
            known = self._route_steps[route.dev or ""] = Step(
                "route", "", 0, f"route forward via {route.dev}"
            )
        return self._t_forward(flow.then(known, pkt=out), False)

    def _t_forward(self, flow: Flow, bridged: bool) -> list[Item]:
        family = flow.pkt.family
        if flow.pkt.oif in self.bridges and self.opaque_bridge:
            nb = self.opaque_bridge[0]
            return [_end_unknown(flow, f"nft bridge chain {nb.table} {nb.chain}")]
        live, ends = self.hook(family, "FORWARD", [flow])
        post, post_ends = self.hook(family, "POSTROUTING", live)
        return [*_ends(ends), *_ends(post_ends), *(Item(DELIVER, f, bridged=bridged) for f in post)]

    def _t_input(self, flow: Flow) -> list[Item]:
        live, ends = self.hook(flow.pkt.family, "INPUT", [flow])
        return [*_ends(ends), *(Item(SOCKET, f) for f in live)]

    def _t_local_out(self, flow: Flow) -> list[Item]:
        pkt = flow.pkt
        family = pkt.family
        oif = self._output_interface(flow, pkt)
        if oif is None:
            self._read(flow, "dst", "raw")
            return [
                Item(END, flow.then(Step("route", "", 0, f"no route to {ip_text(family, pkt.dst)}")), BLOCKED)
            ]
        route_step = Step("route", "", 0, "route local" if oif == "lo" else f"route out via {oif}")
        flow = flow._replace(pkt=pkt._replace(oif=oif), steps=flow.steps + (route_step,))
        live, ends = self.hook(family, "OUTPUT", [flow], hi=-100)
        items = _ends(ends)
        rerouted: list[Flow] = []
        for f in live:
            p = f.pkt
            if p.dnat:
                new_oif = self._output_interface(f, p)
                if new_oif is None:
                    self._read(f, "dst", "raw")
                    step = Step("route", "", 0, f"no route to {ip_text(family, p.dst)}")
                    items.append(Item(END, f.then(step), BLOCKED))
                    continue
                self._read(f, "src", "lo127")
                if family == 4 and p.src >> 24 == 127 and new_oif != "lo":
                    localnet = self.route_localnet(new_oif)
                    if localnet is None:
                        items.append(_end_unknown(f, f"route_localnet of {new_oif} not read"))
                        continue
                    if not localnet:
                        why = f"source 127.0.0.1 may not leave via {new_oif} (route_localnet=0)"
                        items.append(Item(END, f.then(Step("route", "", 0, why)), BLOCKED))
                        continue
                f = f._replace(
                    pkt=p._replace(oif=new_oif),
                    steps=f.steps + (Step("route", "", 0, f"rerouted via {new_oif}"),),
                )
            rerouted.append(f)
        live, more = self.hook(family, "OUTPUT", rerouted, lo=-99)
        items.extend(_ends(more))
        post, more = self.hook(family, "POSTROUTING", live)
        items.extend(_ends(more))
        for f in post:
            if f.pkt.oif == "lo":
                looped = f._replace(pkt=f.pkt._replace(iif="lo", oif=None))
                pre, more = self.hook(family, "PREROUTING", [looped], nat=False)
                items.extend(_ends(more))
                for g in pre:
                    items.extend(self._t_input(g))
            else:
                items.append(Item(DELIVER, f, bridged=False))
        return items

    def _output_interface(self, flow: Flow, pkt: Packet) -> str | None:
        if self._recording:
            self._read(flow, "dst", "local")
        else:
            self._see(("addr", "local", (pkt.family, pkt.dst)))
        if self.is_local(pkt.family, pkt.dst):
            return "lo"
        if self._recording:
            self._read(flow, "dst", "route")
        else:
            self._see(("addr", "route", (pkt.family, pkt.dst)))
        route = self.lookup(pkt.family, pkt.dst)
        if route is None or route.type in ("blackhole", "unreachable", "prohibit"):
            return None
        return route.dev

    def _t_reply_forward(self, flow: Flow) -> list[Item]:
        family = flow.pkt.family
        pre, ends = self.hook(family, "PREROUTING", [flow], nat=False)
        live, more = self.hook(family, "FORWARD", pre, nat=False)
        post, last = self.hook(family, "POSTROUTING", live, nat=False)
        return [*_ends(ends), *_ends(more), *_ends(last), *(Item(END, f, ACCEPT) for f in post)]

    def _t_reply_local(self, flow: Flow) -> list[Item]:
        family = flow.pkt.family
        pre, ends = self.hook(family, "PREROUTING", [flow], nat=False)
        live, more = self.hook(family, "INPUT", pre, nat=False)
        return [*_ends(ends), *_ends(more), *(Item(END, f, ACCEPT) for f in live)]

    def _t_reply_host(self, flow: Flow) -> list[Item]:
        family = flow.pkt.family
        live, ends = self.hook(family, "OUTPUT", [flow], nat=False)
        post, more = self.hook(family, "POSTROUTING", live, nat=False)
        items = [*_ends(ends), *_ends(more)]
        for f in post:
            if flow.pkt.oif == "lo":
                looped = f._replace(pkt=f.pkt._replace(iif="lo", oif=None))
                pre, more = self.hook(family, "PREROUTING", [looped], nat=False)
                live_in, more2 = self.hook(family, "INPUT", pre, nat=False)
                items.extend([*_ends(more), *_ends(more2), *(Item(END, g, ACCEPT) for g in live_in)])
            else:
                items.append(Item(END, f, ACCEPT))
        return items

    def _replies(self, kind: str, start: Flow, compute: Callable[[Flow], list[Item]]) -> list[Branch]:
        return [Branch(i.verdict, i.flow) for i in self._transport(kind, start, compute)]

    # -- endpoints ------------------------------------------------------------------------
    def _deliver(
        self, flow: Flow, pkt: Packet, goal: Goal, bridged: bool, skip_filter: bool = False
    ) -> list[Branch]:
        """The packet leaves on ``pkt.oif``: is it the goal, and does the reply come back?"""
        self._see(("goal", "on_host", None))
        self._see(("goal", "bridge_of", (pkt.family, pkt.dst)))
        if goal.on_host or goal.bridge_of(pkt.family, pkt.dst) != pkt.oif:
            self._see(("addr", "raw", (pkt.family, pkt.dst)))
            self._see(("port", "raw", pkt.dport))
            where = f"{ip_text(pkt.family, pkt.dst)}:{pkt.dport} via {pkt.oif}"
            return [
                Branch(
                    BLOCKED, flow.then(Step("route", "", 0, f"delivered to {where}, not to the container"))
                )
            ]
        self._see(("goal", "port_is", pkt.dport))
        if pkt.dport != goal.port or pkt.proto != goal.proto:
            self._see(("port", "raw", pkt.dport))
            self._see(("goal", "port", None))
            return [
                Branch(
                    BLOCKED,
                    flow.then(
                        Step("route", "", 0, f"delivered to port {pkt.dport}/{pkt.proto}, not {goal.port}")
                    ),
                )
            ]
        arrived = Flow(pkt, flow.steps, flow.undecided, flow.reasons)
        return self._reply_from_container(arrived, goal, bridged, skip_filter)

    def _socket(self, flow: Flow, goal: Goal, templates: bool = False) -> list[Branch]:
        """The packet reached a local socket: a host-network container or a docker-proxy."""
        pkt = flow.pkt
        self._see(("goal", "on_host", None))
        if goal.on_host:
            self._see(("goal", "port_is", pkt.dport))
            self._see(("port", "raw", pkt.dport))
            if pkt.dport == goal.port and pkt.proto == goal.proto:
                arrived = flow.then(Step("socket", "", 0, f"host port {pkt.dport}/{pkt.proto}"))
                return self._reply_from_host(arrived, arrived.pkt)
            self._see(("goal", "port", None))
            return [
                Branch(BLOCKED, flow.then(Step("socket", "", 0, f"host port {pkt.dport}, not {goal.port}")))
            ]
        if self.proxies is None:
            self._see(("port", "raw", pkt.dport))
            return [_unknown(flow, f"whether docker-proxy listens on {pkt.dport}/{pkt.proto} is not known")]
        index = self._listener_index(pkt.proto, pkt.dport, pkt.family, pkt.dst)
        if index is not None and templates and not flow.reasons:
            # The proxy is the only part that depends on the port: leave it to ``instantiate``.
            edited = edited_fields(flow.edits)
            port_b = "dport" if "dport" not in edited else ("port", pkt.dport)
            dst_b = "dst" if "dst" not in edited else ("addr", (pkt.family, pkt.dst))
            self._see(("tag", ("listener", port_b, dst_b)))
            leg1s = self._reply_from_host(Flow(pkt), pkt)
            return [SocketTemplate(flow, port_b == "dport", dst_b == "dst", leg1s)]  # type: ignore[list-item]
        self._see(("port", "raw", pkt.dport))
        if self._listeners_specific:
            self._see(("addr", "raw", (pkt.family, pkt.dst)))
        if index is None:
            self._see(("addr", "raw", (pkt.family, pkt.dst)))
            where = f"{ip_text(pkt.family, pkt.dst)}:{pkt.dport}"
            return [
                Branch(BLOCKED, flow.then(Step("socket", "", 0, f"no listener of this container on {where}")))
            ]
        proxy = self._proxies_by_port[(pkt.proto, pkt.dport)][index]
        return self._proxy_outcomes(proxy, flow, goal, pkt, None)

    def _listener_index(self, proto: str, port: int, family: int, dst: int) -> int | None:
        """Which docker-proxy takes a connection to ``dst:port`` (its index for the port)."""
        key = (proto, port, family, dst)
        if key in self._listener_indexes:
            return self._listener_indexes[key]
        found = None
        for i, proxy in enumerate(self._proxies_by_port.get((proto, port), ())):
            if _listens(proxy.host_ip, family, dst):
                found = i
                break
        self._listener_indexes[key] = found
        return found

    def instantiate(self, branches: list[Any], goal: Goal, dst: int, dport: int) -> list[Branch]:
        """``branches`` of a remembered attempt for a target: each ``SocketTemplate`` becomes
        what the docker-proxy on that target's port does (``dst``/``dport``: the target's)."""
        out: list[Branch] = []
        for b in branches:
            if not isinstance(b, SocketTemplate):
                out.append(b)
                continue
            pkt = b.flow.pkt
            port = dport if b.port_bound else pkt.dport
            address = dst if b.dst_bound else pkt.dst
            index = self._listener_index(pkt.proto, port, pkt.family, address)
            if index is None:  # the tags say a proxy listens: a memo of another host?
                raise AssertionError(f"no docker-proxy on {port} for a remembered attempt")
            proxy = self._proxies_by_port[(pkt.proto, port)][index]
            simple = self._simple_outcome(proxy, b.flow, goal, pkt.proto) if b.simple else None
            if simple is not None:
                out.append(simple)
            else:
                out.extend(self._proxy_outcomes(proxy, b.flow, goal, pkt, b.leg1s))
        return out

    def _simple_outcome(self, proxy: ProxyListener, flow: Flow, goal: Goal, proto: str) -> Branch | None:
        """``_proxy_outcomes`` when the reply to the client went straight back (nothing to
        add) and what follows has one answer assuming nothing: that branch, built in one
        go (``None`` otherwise)."""
        key = (proxy, proto, goal)
        suffix = self._simple_suffixes.get(key)
        if suffix is None:
            start = Flow(flow.pkt)
            suffix = self._proxy_outcomes(proxy, start, goal, flow.pkt, [Branch(REACHABLE, start)])
            self._simple_suffixes[key] = suffix
        if len(suffix) != 1 or suffix[0].flow.undecided:
            return None
        only = suffix[0].flow
        steps = flow.steps + only.steps
        if parts_concatenate(flow.steps, only.steps):
            text = join_trace(self._parts(flow.steps) + self._parts(only.steps))
            self._joined_traces[id(steps)] = (steps, text)
        return Branch(suffix[0].verdict, Flow(only.pkt, steps, flow.undecided, only.reasons))

    def _parts(self, steps: tuple[Step, ...]) -> list[str]:
        found = self._trace_parts.get(id(steps))
        if found is None or found[0] is not steps:
            found = self._trace_parts[id(steps)] = (steps, trace_parts(steps))
        return found[1]

    def render(self, steps: tuple[Step, ...]) -> str:
        """``render_trace(steps)``, from its pieces when ``_simple_outcome`` joined them."""
        found = self._joined_traces.pop(id(steps), None)
        if found is not None and found[0] is steps:
            return found[1]
        return render_trace(steps)

    def _proxy_outcomes(
        self, proxy: ProxyListener, flow: Flow, goal: Goal, pkt: Packet, leg1s: list[Branch] | None
    ) -> list[Branch]:
        """A docker-proxy took the connection: the reply to the client (``leg1s``: computed
        from an empty flow, else here) and the proxy's own connection to the container."""
        fam, cip = ip_int(proxy.container_ip)
        at_proxy = flow.then(self._proxy_step(proxy, False))
        self._see(("goal", "has", (fam, cip)))
        self._see(("goal", "port_is", proxy.container_port))
        if not goal.has_address(fam, cip) or proxy.container_port != goal.port:
            return [Branch(BLOCKED, at_proxy.then(self._proxy_step(proxy, True)))]
        if leg1s is None:
            replies = self._reply_from_host(at_proxy, pkt)
        else:
            replies = [
                Branch(
                    r.verdict,
                    Flow(
                        r.flow.pkt,
                        at_proxy.steps + r.flow.steps,
                        at_proxy.undecided | r.flow.undecided,
                        at_proxy.reasons + r.flow.reasons,
                    ),
                )
                for r in leg1s
            ]
        outcomes = []
        for leg1 in replies:
            if leg1.verdict != REACHABLE:
                outcomes.append(leg1)
                continue
            legs = self._proxy_leg(proxy, pkt.proto, goal)
            if legs is None:
                outcomes.append(
                    Branch(
                        BLOCKED,
                        leg1.flow.then(Step("route", "", 0, "no route from the proxy to the container")),
                    )
                )
                continue
            for b in legs:
                f = b.flow
                outcomes.append(
                    Branch(
                        b.verdict,
                        Flow(
                            f.pkt,
                            leg1.flow.steps + f.steps,
                            leg1.flow.undecided | f.undecided,
                            leg1.flow.reasons + f.reasons,
                        ),
                    )
                )
        return outcomes

    def _proxy_leg(self, proxy: ProxyListener, proto: str, goal: Goal) -> list[Branch] | None:
        """The proxy's connection to its container (the same for every client of the proxy);
        ``None`` when the host has no route there. What it read is observed again on reuse."""
        key = (proxy, proto, goal)
        found = self._proxy_legs.get(key)
        if found is None:
            self._observers.append([])
            try:
                fam, cip = ip_int(proxy.container_ip)
                src = self.source_for(fam, cip)
                legs = None
                if src is not None:
                    second = first_packet(fam, proto, src, PROXY_SPORT, cip, proxy.container_port, None)
                    legs = self.local_out(Flow(second, (Step("socket", "", 0, "proxy connects"),)), goal)
            finally:
                observed = self._observers.pop()
            found = self._proxy_legs[key] = (legs, tuple(observed))
        legs, seen = found
        if self._observers:
            self._observers[-1].extend(seen)
        return legs

    def _proxy_step(self, proxy: ProxyListener, elsewhere: bool) -> Step:
        key = (proxy, elsewhere)
        step = self._proxy_steps.get(key)
        if step is None:
            if elsewhere:
                step = Step("socket", "", 0, "the proxy forwards to another container")
            else:
                host = _hostport(proxy.host_ip, proxy.host_port)
                inner = _hostport(proxy.container_ip, proxy.container_port)
                step = Step("socket", "", 0, f"docker-proxy {host} -> {inner}")
            self._proxy_steps[key] = step
        return step

    def _reply_from_container(self, flow: Flow, goal: Goal, bridged: bool, skip_filter: bool) -> list[Branch]:
        pkt = flow.pkt
        self._see(("goal", "bridge_of", (pkt.family, pkt.dst)))
        self._see(("addr", "local", (pkt.family, pkt.orig_src)))
        self._see(("addr", "route", (pkt.family, pkt.orig_src)))
        bridge = goal.bridge_of(pkt.family, pkt.dst)
        client_local = self.is_local(pkt.family, pkt.orig_src)
        same_link = bridged or (not client_local and self._link_of(pkt.family, pkt.orig_src) == bridge)
        reply = reply_to(pkt, iif=bridge, bridged=same_link)
        if same_link:
            bnf = self.bridge_nf(pkt.family)
            if skip_filter or bnf is False:
                return [Branch(REACHABLE, flow)]
            start = Flow(reply._replace(oif=bridge), (), flow.undecided, flow.reasons)
            outcomes = self._replies("reply-forward", start, self._t_reply_forward)
            if bnf is None:
                outcomes = outcomes + [
                    Branch(REACHABLE, Flow(reply, (), frozenset({"net.bridge.bridge-nf-call-iptables"}), ()))
                ]
        elif client_local:
            start = Flow(reply, (), flow.undecided, flow.reasons)
            outcomes = self._replies("reply-local", start, self._t_reply_local)
        else:
            route = self.lookup(pkt.family, pkt.orig_src)
            if route is None:
                return [Branch(BLOCKED, flow.then(Step("reply", "", 0, "no route back to the client")))]
            start = Flow(reply._replace(oif=route.dev), (), flow.undecided, flow.reasons)
            outcomes = self._replies("reply-forward", start, self._t_reply_forward)
        return _joined(flow, outcomes)

    def _reply_from_host(self, flow: Flow, pkt: Packet) -> list[Branch]:
        """The host's socket answers ``pkt``: OUTPUT, POSTROUTING (and loopback input)."""
        reply = reply_to(pkt, iif=None, bridged=False)
        oif = self._output_interface(flow, reply)
        if oif is None:
            return [Branch(BLOCKED, flow.then(Step("reply", "", 0, "no route back to the client")))]
        start = Flow(reply._replace(oif=oif), (), flow.undecided, flow.reasons)
        return _joined(flow, self._replies("reply-host", start, self._t_reply_host))

    def _link_of(self, family: int, value: int) -> str | None:
        route = self.lookup(family, value)
        return route.dev if route is not None and route.gateway is None else None


class _Plan(NamedTuple):
    """A hook's stages between two priorities, with the memo of their walks."""

    stages: tuple[Stage, ...]
    memo: LazyMemo

    def tags(self, reads: set[str]) -> tuple[Tag, ...]:
        """The fields a walk read, each with the class it was keyed by."""
        projector = self.memo.projector
        if projector.everything:
            return tuple((name, "raw") for name in Packet._fields)
        out = []
        for name in reads | {"family"}:
            cls = projector.classes.get(name)
            out.append((name, "raw" if cls is None or cls.raw else cls))
        return tuple(out)


def _ends(branches: list[Branch]) -> list[Item]:
    return [Item(END, b.flow, b.verdict) for b in branches]


def _end_unknown(flow: Flow, reason: str) -> Item:
    return Item(END, flow.because(reason), UNKNOWN)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _address(pkt: Packet, index: int) -> int:
    """An address field of a packet read by its index (tags name fields by index)."""
    return cast(int, pkt[index])


def _listens(host_ip: str, family: int, dst: int) -> bool:
    if host_ip in ("0.0.0.0", ""):
        return family == 4
    if host_ip == "::":
        return family == 6
    try:
        return ip_int(host_ip) == (family, dst)
    except ValueError:
        return False


def _bound_value(bound: Any, port: bool) -> Callable[[int, int, int], Any]:
    """The argument of an attempt tag: the target's own address or port, or a constant."""
    if bound == "dst":
        return lambda fam, dst, dport: (fam, dst)
    if bound == "dport":
        return lambda fam, dst, dport: dport
    value = bound[1]
    return lambda fam, dst, dport: value


class SocketTemplate(NamedTuple):
    """A docker-proxy socket left open in a remembered attempt: ``flow`` is the connection
    at the socket, ``leg1s`` the reply to the client from an empty flow; the proxy (chosen
    by the target's port, or the packet's when an edit set it) is filled in per target."""

    flow: Flow
    port_bound: bool
    dst_bound: bool
    leg1s: list[Branch]

    @property
    def simple(self) -> bool:
        """The reply to the client went straight back with nothing assumed or added."""
        return (
            len(self.leg1s) == 1
            and self.leg1s[0].verdict == REACHABLE
            and not self.leg1s[0].flow.steps
            and not self.leg1s[0].flow.undecided
            and not self.leg1s[0].flow.reasons
        )


class _Observing:
    def __init__(self, stack: list[list[Observation]]) -> None:
        self._stack = stack
        self.seen: list[Observation] = []

    def __enter__(self) -> _Observing:
        self._stack.append(self.seen)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.pop()


def _unknown(flow: Flow, reason: str) -> Branch:
    return Branch(UNKNOWN, Flow(flow.pkt, flow.steps, flow.undecided, flow.reasons + (reason,)))


def _joined(forward: Flow, reply_ends: list[Branch]) -> list[Branch]:
    """Forward steps plus the reply's: ACCEPT -> REACHABLE, DROP -> BLOCKED."""
    out = []
    for b in reply_ends:
        verdict = {ACCEPT: REACHABLE, DROP: BLOCKED}.get(b.verdict, b.verdict)
        steps = forward.steps
        if verdict != REACHABLE or any(s.undecided for s in b.flow.steps):
            steps = steps + (Step("reply", "", 0, "reply"),) + b.flow.steps
        out.append(
            Branch(
                verdict,
                Flow(
                    forward.pkt,
                    steps,
                    forward.undecided | b.flow.undecided,
                    tuple(dict.fromkeys(forward.reasons + b.flow.reasons)),
                ),
            )
        )
    return out


def _relabel(flow: Flow, old: str, new: str) -> Flow:
    return flow._replace(
        steps=tuple(msgspec.structs.replace(s, table=new) if s.table == old else s for s in flow.steps)
    )


def _drop_policy_accept(flow: Flow, table: str, chain: str) -> Flow:
    """An ACCEPT policy of raw/mangle/nat says nothing worth a trace step."""
    if (
        flow.steps
        and flow.steps[-1].rule == 0
        and flow.steps[-1].action == "policy ACCEPT"
        and flow.steps[-1].table == table
    ):
        return flow._replace(steps=flow.steps[:-1])  # keeps the edits (NOTRACK in raw, say)
    return flow
