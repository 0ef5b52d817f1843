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

from collections.abc import Iterable
from dataclasses import dataclass, replace

from auditor.exposure.facts import FirewallFacts, HostNetwork
from auditor.exposure.hostnet import ProxyListener, Route
from auditor.exposure.matches import CtState
from auditor.exposure.packet import Context, Packet, first_packet, ip_int, ip_text, reply_to
from auditor.exposure.rules import Ruleset, Table
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


@dataclass(frozen=True)
class Stage:
    """One table's chain on one hook; ``opaque`` names why it cannot be evaluated."""

    priority: int
    label: str
    table: Table | None
    chain: str
    nat: bool
    filtering: bool
    opaque: str | None = None
    transparent: bool = False  # source NAT only: cannot block, so it is not walked


@dataclass(frozen=True)
class Goal:
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


def _stages_for(family: int, hook: str, firewall: FirewallFacts) -> tuple[Stage, ...]:
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
    if hook in ("POSTROUTING", "INPUT") and not _matches_snat_state(firewall):
        stages = [replace(s, transparent=_source_nat_only(s)) if s.nat else s for s in stages]
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
    """Follows packets of one host through its netfilter hooks; built once per analysis."""

    def __init__(
        self, firewall: FirewallFacts, network: HostNetwork, proxies: tuple[ProxyListener, ...] | None
    ):
        self.firewall = firewall
        self.network = network
        self.proxies = proxies
        self.stages = {(f, h): _stages_for(f, h, firewall) for f in (4, 6) for h in HOOK_TABLES}
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
        self.walker = Walker(self.ctx)
        self._forwarding = {
            4: network.sysctl_flag("net.ipv4.ip_forward"),
            6: network.sysctl_flag("net.ipv6.conf.all.forwarding"),
        }
        self._bridge_nf = {
            4: network.sysctl_flag("net.bridge.bridge-nf-call-iptables"),
            6: network.sysctl_flag("net.bridge.bridge-nf-call-ip6tables"),
        }
        self._route_steps: dict[str, Step] = {}
        self._plans: dict[tuple[int, str, int, int, bool], tuple[tuple[Stage, ...], LazyMemo]] = {}
        self._proxy_legs: dict[tuple[Packet, Goal], list[Branch]] = {}
        self._route_cache: dict[tuple[int, int], Route | None] = {}
        self._proxies_by_port: dict[tuple[str, int], list[ProxyListener]] = {}
        for proxy in proxies or ():
            self._proxies_by_port.setdefault((proxy.proto, proxy.host_port), []).append(proxy)
        self.opaque_bridge = tuple(
            b for b in (firewall.nft.opaque if firewall.nft else ()) if b.family == "bridge"
        )
        self.opaque_netdev = tuple(
            b for b in (firewall.nft.opaque if firewall.nft else ()) if b.family == "netdev"
        )
        self.bridges: frozenset[str] = frozenset()

    # -- host facts -----------------------------------------------------------------------
    def is_local(self, family: int, value: int) -> bool:
        return self.ctx.addr_type(family, value) == "LOCAL"

    def lookup(self, family: int, value: int) -> Route | None:
        key = (family, value)
        if key in self._route_cache:
            return self._route_cache[key]
        best: Route | None = None
        for r in self.routes[family]:
            if r.covers(family, value) and (
                best is None
                or r.prefixlen > best.prefixlen
                or (r.prefixlen == best.prefixlen and r.metric < best.metric)
            ):
                best = r
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
        """The source address the host picks for a connection to ``dst``."""
        if self.is_local(family, dst):
            if family == 4 and dst >> 24 == 127:
                return ip_int("127.0.0.1")[1]
            return dst
        route = self.lookup(family, dst)
        if route is None:
            return None
        if route.prefsrc:
            return ip_int(route.prefsrc)[1]
        return self.primary.get((route.dev or "", family))

    # -- hooks ----------------------------------------------------------------------------
    def _plan(
        self, family: int, hook: str, lo: int, hi: int, nat: bool
    ) -> tuple[tuple[Stage, ...], LazyMemo]:
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
            plan = (stages, LazyMemo(Projector(matches, raw)))
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
        stages, memo = self._plan(family, hook, lo, hi, nat)
        flows = list(flows)
        if not stages:
            return flows, []
        live: list[Flow] = []
        ends: list[Branch] = []
        for flow in flows:
            relative = memo.get(flow.pkt, self.ctx)
            if relative is None:
                reads = {"ctstate", "reply"}
                relative = self._run_stages(stages, Flow(flow.pkt), nat, reads)
                memo.put(reads, flow.pkt, self.ctx, relative)
            rel_live, rel_ends = relative
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

    # -- paths ----------------------------------------------------------------------------
    def arrive(self, flow: Flow, goal: Goal) -> list[Branch]:
        """A packet arriving on ``flow.pkt.iif`` from a neighbour (or a container)."""
        pkt = flow.pkt
        ends: list[Branch] = []
        if pkt.iif in self.bridges and self.opaque_bridge:
            return [
                _unknown(
                    flow, f"nft bridge chain {self.opaque_bridge[0].table} {self.opaque_bridge[0].chain}"
                )
            ]
        if self.opaque_netdev:
            nd = self.opaque_netdev[0]
            return [_unknown(flow, f"nft netdev chain {nd.table} {nd.chain}")]
        if pkt.bridged:
            bnf = self.bridge_nf(pkt.family)
            direct = self._deliver(
                flow.then(Step("route", "", 0, f"bridged on {pkt.iif}, iptables not called")),
                pkt._replace(oif=pkt.iif),
                goal,
                bridged=True,
                skip_filter=True,
            )
            if bnf is False:
                return direct
            if bnf is None:
                for b in direct:
                    ends.append(
                        Branch(
                            b.verdict,
                            Flow(
                                b.flow.pkt,
                                b.flow.steps,
                                b.flow.undecided | {"net.bridge.bridge-nf-call-iptables"},
                                b.flow.reasons,
                            ),
                        )
                    )
        live, pre_ends = self.hook(pkt.family, "PREROUTING", [flow])
        ends.extend(pre_ends)
        for f in live:
            ends.extend(self._after_prerouting(f, goal))
        return ends

    def _after_prerouting(self, flow: Flow, goal: Goal) -> list[Branch]:
        pkt = flow.pkt
        if pkt.bridged and not pkt.dnat:
            fwd = pkt._replace(oif=pkt.iif)
            return self._forward(
                flow.then(Step("route", "", 0, f"bridged on {pkt.iif}"), pkt=fwd), goal, bridged=True
            )
        pkt = pkt._replace(bridged=False)
        flow = Flow(pkt, flow.steps, flow.undecided, flow.reasons)
        if self.is_local(pkt.family, pkt.dst):
            if pkt.family == 4 and pkt.dst >> 24 == 127 and pkt.iif != "lo":
                localnet = self.route_localnet(pkt.iif or "")
                if localnet is None:
                    return [_unknown(flow, f"route_localnet of {pkt.iif} not read")]
                if not localnet:
                    return [
                        Branch(
                            BLOCKED,
                            flow.then(
                                Step(
                                    "route",
                                    "",
                                    0,
                                    f"martian destination {ip_text(4, pkt.dst)} on {pkt.iif} (route_localnet=0)",
                                )
                            ),
                        )
                    ]
            return self._input(flow.then(Step("route", "", 0, "route local")), goal)
        forwarding = self.forwarding(pkt.family)
        if forwarding is None:
            return [_unknown(flow, "ip_forward not read")]
        if not forwarding:
            return [Branch(BLOCKED, flow.then(Step("route", "", 0, "not forwarded (ip_forward=0)")))]
        route = self.lookup(pkt.family, pkt.dst)
        if (
            self.network.routes is None
            and pkt.family == 4
            or self.network.routes6 is None
            and pkt.family == 6
        ):
            return [_unknown(flow, "routes not read")]
        if route is None or route.type in ("blackhole", "unreachable", "prohibit"):
            return [
                Branch(
                    BLOCKED, flow.then(Step("route", "", 0, f"no route to {ip_text(pkt.family, pkt.dst)}"))
                )
            ]
        out = pkt._replace(oif=route.dev)
        step = self._route_steps.get(route.dev or "")
        if step is None:
            step = self._route_steps[route.dev or ""] = Step("route", "", 0, f"route forward via {route.dev}")
        return self._forward(flow.then(step, pkt=out), goal, bridged=False)

    def _forward(self, flow: Flow, goal: Goal, bridged: bool) -> list[Branch]:
        family = flow.pkt.family
        if flow.pkt.oif in self.bridges and self.opaque_bridge:
            return [
                _unknown(
                    flow, f"nft bridge chain {self.opaque_bridge[0].table} {self.opaque_bridge[0].chain}"
                )
            ]
        live, ends = self.hook(family, "FORWARD", [flow])
        post, post_ends = self.hook(family, "POSTROUTING", live)
        ends.extend(post_ends)
        for f in post:
            ends.extend(self._deliver(f, f.pkt, goal, bridged=bridged))
        return ends

    def _deliver(
        self, flow: Flow, pkt: Packet, goal: Goal, bridged: bool, skip_filter: bool = False
    ) -> list[Branch]:
        """The packet leaves on ``pkt.oif``: is it the goal, and does the reply come back?"""
        if goal.on_host or goal.bridge_of(pkt.family, pkt.dst) != pkt.oif:
            where = f"{ip_text(pkt.family, pkt.dst)}:{pkt.dport} via {pkt.oif}"
            return [
                Branch(
                    BLOCKED, flow.then(Step("route", "", 0, f"delivered to {where}, not to the container"))
                )
            ]
        if pkt.dport != goal.port or pkt.proto != goal.proto:
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

    def _input(self, flow: Flow, goal: Goal) -> list[Branch]:
        live, ends = self.hook(flow.pkt.family, "INPUT", [flow])
        for f in live:
            ends.extend(self._socket(f, goal))
        return ends

    def _socket(self, flow: Flow, goal: Goal) -> list[Branch]:
        """The packet reached a local socket: a host-network container or a docker-proxy."""
        pkt = flow.pkt
        if goal.on_host:
            if pkt.dport == goal.port and pkt.proto == goal.proto:
                arrived = flow.then(Step("socket", "", 0, f"host port {pkt.dport}/{pkt.proto}"))
                return self._reply_from_host(arrived, arrived.pkt)
            return [
                Branch(BLOCKED, flow.then(Step("socket", "", 0, f"host port {pkt.dport}, not {goal.port}")))
            ]
        if self.proxies is None:
            return [_unknown(flow, f"whether docker-proxy listens on {pkt.dport}/{pkt.proto} is not known")]
        for proxy in self._proxies_by_port.get((pkt.proto, pkt.dport), ()):
            if not _listens(proxy.host_ip, pkt):
                continue
            fam, cip = ip_int(proxy.container_ip)
            label = f"docker-proxy {_hostport(proxy.host_ip, proxy.host_port)} -> {_hostport(proxy.container_ip, proxy.container_port)}"
            at_proxy = flow.then(Step("socket", "", 0, label))
            if not goal.has_address(fam, cip) or proxy.container_port != goal.port:
                return [
                    Branch(
                        BLOCKED,
                        at_proxy.then(Step("socket", "", 0, "the proxy forwards to another container")),
                    )
                ]
            outcomes = []
            for leg1 in self._reply_from_host(at_proxy, pkt):
                if leg1.verdict != REACHABLE:
                    outcomes.append(leg1)
                    continue
                src = self.source_for(fam, cip)
                if src is None:
                    outcomes.append(
                        Branch(
                            BLOCKED,
                            leg1.flow.then(Step("route", "", 0, "no route from the proxy to the container")),
                        )
                    )
                    continue
                second = first_packet(fam, pkt.proto, src, PROXY_SPORT, cip, proxy.container_port, None)
                key = (second, goal)
                proxied = self._proxy_legs.get(key)
                if proxied is None:  # the same for every client of this proxy
                    proxied = self.local_out(Flow(second, (Step("socket", "", 0, "proxy connects"),)), goal)
                    self._proxy_legs[key] = proxied
                for b in proxied:
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
        return [
            Branch(
                BLOCKED,
                flow.then(
                    Step(
                        "socket",
                        "",
                        0,
                        f"no listener of this container on {ip_text(pkt.family, pkt.dst)}:{pkt.dport}",
                    )
                ),
            )
        ]

    def local_out(self, flow: Flow, goal: Goal) -> list[Branch]:
        """A connection opened by a process on the host (a local client, or docker-proxy)."""
        pkt = flow.pkt
        family = pkt.family
        oif = self._output_interface(pkt)
        if oif is None:
            return [
                Branch(BLOCKED, flow.then(Step("route", "", 0, f"no route to {ip_text(family, pkt.dst)}")))
            ]
        route_step = Step("route", "", 0, "route local" if oif == "lo" else f"route out via {oif}")
        flow = Flow(pkt._replace(oif=oif), flow.steps + (route_step,), flow.undecided, flow.reasons)
        live, ends = self.hook(family, "OUTPUT", [flow], hi=-100)
        rerouted: list[Flow] = []
        for f in live:
            p = f.pkt
            if p.dnat:
                new_oif = self._output_interface(p)
                if new_oif is None:
                    ends.append(
                        Branch(BLOCKED, f.then(Step("route", "", 0, f"no route to {ip_text(family, p.dst)}")))
                    )
                    continue
                if family == 4 and p.src >> 24 == 127 and new_oif != "lo":
                    localnet = self.route_localnet(new_oif)
                    if localnet is None:
                        ends.append(_unknown(f, f"route_localnet of {new_oif} not read"))
                        continue
                    if not localnet:
                        ends.append(
                            Branch(
                                BLOCKED,
                                f.then(
                                    Step(
                                        "route",
                                        "",
                                        0,
                                        f"source 127.0.0.1 may not leave via {new_oif} (route_localnet=0)",
                                    )
                                ),
                            )
                        )
                        continue
                f = Flow(
                    p._replace(oif=new_oif),
                    f.steps + (Step("route", "", 0, f"rerouted via {new_oif}"),),
                    f.undecided,
                    f.reasons,
                )
            rerouted.append(f)
        live, more = self.hook(family, "OUTPUT", rerouted, lo=-99)
        ends.extend(more)
        post, more = self.hook(family, "POSTROUTING", live)
        ends.extend(more)
        for f in post:
            if f.pkt.oif == "lo":
                looped = Flow(f.pkt._replace(iif="lo", oif=None), f.steps, f.undecided, f.reasons)
                pre, more = self.hook(family, "PREROUTING", [looped], nat=False)
                ends.extend(more)
                for g in pre:
                    ends.extend(self._input(g, goal))
            else:
                ends.extend(self._deliver(f, f.pkt, goal, bridged=False))
        return ends

    def _output_interface(self, pkt: Packet) -> str | None:
        if self.is_local(pkt.family, pkt.dst):
            return "lo"
        route = self.lookup(pkt.family, pkt.dst)
        if route is None or route.type in ("blackhole", "unreachable", "prohibit"):
            return None
        return route.dev

    # -- replies --------------------------------------------------------------------------
    def _reply_from_container(self, flow: Flow, goal: Goal, bridged: bool, skip_filter: bool) -> list[Branch]:
        pkt = flow.pkt
        bridge = goal.bridge_of(pkt.family, pkt.dst)
        client_local = self.is_local(pkt.family, pkt.orig_src)
        same_link = bridged or (not client_local and self._link_of(pkt.family, pkt.orig_src) == bridge)
        reply = reply_to(pkt, iif=bridge, bridged=same_link)
        start = Flow(reply, (), flow.undecided, flow.reasons)
        if same_link:
            bnf = self.bridge_nf(pkt.family)
            if skip_filter or bnf is False:
                return [Branch(REACHABLE, flow)]
            outcomes = self._reply_forward(start, reply._replace(oif=bridge))
            if bnf is None:
                outcomes = outcomes + [
                    Branch(REACHABLE, Flow(reply, (), frozenset({"net.bridge.bridge-nf-call-iptables"}), ()))
                ]
        elif client_local:
            pre, ends = self.hook(pkt.family, "PREROUTING", [start], nat=False)
            live, more = self.hook(pkt.family, "INPUT", pre, nat=False)
            outcomes = ends + more + [Branch(ACCEPT, f) for f in live]
        else:
            route = self.lookup(pkt.family, pkt.orig_src)
            if route is None:
                return [Branch(BLOCKED, flow.then(Step("reply", "", 0, "no route back to the client")))]
            outcomes = self._reply_forward(start, reply._replace(oif=route.dev))
        return _joined(flow, outcomes)

    def _reply_forward(self, start: Flow, pkt: Packet) -> list[Branch]:
        flow = Flow(pkt, start.steps, start.undecided, start.reasons)
        pre, ends = self.hook(pkt.family, "PREROUTING", [flow], nat=False)
        live, more = self.hook(pkt.family, "FORWARD", pre, nat=False)
        post, last = self.hook(pkt.family, "POSTROUTING", live, nat=False)
        return ends + more + last + [Branch(ACCEPT, f) for f in post]

    def _reply_from_host(self, flow: Flow, pkt: Packet) -> list[Branch]:
        """The host's socket answers ``pkt``: OUTPUT, POSTROUTING (and loopback input)."""
        reply = reply_to(pkt, iif=None, bridged=False)
        oif = self._output_interface(reply)
        if oif is None:
            return [Branch(BLOCKED, flow.then(Step("reply", "", 0, "no route back to the client")))]
        start = Flow(reply._replace(oif=oif), (), flow.undecided, flow.reasons)
        live, ends = self.hook(pkt.family, "OUTPUT", [start], nat=False)
        post, more = self.hook(pkt.family, "POSTROUTING", live, nat=False)
        ends = ends + more
        for f in post:
            if oif == "lo":
                looped = Flow(f.pkt._replace(iif="lo", oif=None), f.steps, f.undecided, f.reasons)
                pre, more = self.hook(pkt.family, "PREROUTING", [looped], nat=False)
                live_in, more2 = self.hook(pkt.family, "INPUT", pre, nat=False)
                ends = ends + more + more2 + [Branch(ACCEPT, g) for g in live_in]
            else:
                ends.append(Branch(ACCEPT, f))
        return _joined(flow, ends)

    def _link_of(self, family: int, value: int) -> str | None:
        route = self.lookup(family, value)
        return route.dev if route is not None and route.gateway is None else None


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listens(host_ip: str, pkt: Packet) -> bool:
    if host_ip in ("0.0.0.0", ""):
        return pkt.family == 4
    if host_ip == "::":
        return pkt.family == 6
    try:
        return ip_int(host_ip) == (pkt.family, pkt.dst)
    except ValueError:
        return False


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
    steps = tuple(replace(s, table=new) if s.table == old else s for s in flow.steps)
    return Flow(flow.pkt, steps, flow.undecided, flow.reasons)


def _drop_policy_accept(flow: Flow, table: str, chain: str) -> Flow:
    """An ACCEPT policy of raw/mangle/nat says nothing worth a trace step."""
    if (
        flow.steps
        and flow.steps[-1].rule == 0
        and flow.steps[-1].action == "policy ACCEPT"
        and flow.steps[-1].table == table
    ):
        return Flow(flow.pkt, flow.steps[:-1], flow.undecided, flow.reasons)
    return flow
