"""PORT007: two containers or services claim the same host address, port and protocol.

``0.0.0.0`` overlaps every IPv4 address, ``::`` every IPv6 address, an empty host IP every
address of both families; port ranges overlap when they intersect; ephemeral ports never
clash. The engine refuses to start the second one, so this is an outage waiting to happen.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from auditor.model.records import Container, PortBinding, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import docs, name_of, port_evidence, port_key

META = RuleMeta(
    id="PORT007",
    title="Host port claimed by more than one container",
    severity=Severity.LOW,
    rationale=(
        "Only one listener can own a host address, port and protocol. When two containers or "
        'services claim the same one, whichever starts second fails with "port is already '
        'allocated" - typically after a reboot or redeploy, when the start order changes.'
    ),
    remediation=(
        "Give each container its own host port or address, e.g. `docker run -p 127.0.0.1:8081:80 ...` "
        'for the second one, or in compose `ports: ["8081:80"]`; or put both behind one reverse '
        "proxy that owns the port."
    ),
    references=(
        docs("Docker docs: Published ports", "https://docs.docker.com/engine/network/#published-ports"),
    ),
)


def _family(ip: str) -> int | None:
    """4, 6, or ``None`` for the empty host IP (both families)."""
    if not ip:
        return None
    if ip == "localhost":
        return 4
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return 4 if "." in ip else 6


def addresses_overlap(a: str, b: str) -> bool:
    """Whether two host IPs can collide: wildcards cover their family, empty covers all."""
    if not a or not b:
        return True
    fa, fb = _family(a), _family(b)
    if fa != fb:
        return False
    if a in ("0.0.0.0", "::") or b in ("0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def bindings_clash(a: PortBinding, b: PortBinding) -> bool:
    if a.host_port is None or b.host_port is None or a.protocol != b.protocol:
        return False
    a_end = a.host_port + a.host_port_count - 1
    b_end = b.host_port + b.host_port_count - 1
    if a.host_port > b_end or b.host_port > a_end:
        return False
    return addresses_overlap(a.host_ip, b.host_ip)


# How many other claimants a message lists; beyond that it gives the count. Ten thousand
# containers on one port would otherwise make every message ten thousand names long.
SHOWN = 10


@dataclass(frozen=True)
class _Claim:
    container: Container
    port: PortBinding
    start: int
    end: int

    @cached_property
    def label(self) -> str:
        """How another claim's message names this one (asked by each of up to ``SHOWN`` others)."""
        return f"{name_of(self.container)} ({self.port.display()})"

    @cached_property
    def identity(self) -> tuple:
        """What ``label`` shows, as a sortable key: a claim listed twice is one claimant."""
        p = self.port
        return self.container.name, p.host_ip, self.start, p.host_port_end or 0, p.container_port, p.protocol


def _address_class(ip: str) -> tuple[int | None, str, object]:
    """``(family, kind, key)``: kind ``all`` (empty: both families), ``wildcard`` or ``one``.

    Two addresses overlap exactly when ``addresses_overlap`` says so: empty overlaps all, a
    wildcard its whole family, one address only an equal one (by value when it parses).
    """
    if not ip:
        return None, "all", None
    family = _family(ip)
    if ip in ("0.0.0.0", "::"):
        return family, "wildcard", None
    try:
        return family, "one", ipaddress.ip_address(ip)
    except ValueError:
        return family, "one", ip


class _Lane:
    """Claims of one protocol and address class, sorted by start port, with the indexes that
    answer "which claims of other containers overlap [s, e]" in O(log n) per claim found."""

    def __init__(self, claims: list[_Claim]):
        claims.sort(key=lambda c: (c.start, c.identity))
        self.claims = claims
        self.starts = [c.start for c in claims]
        self.ends = sorted(c.end for c in claims)
        self.names = [c.container.name for c in claims]
        n = len(claims)
        self.skip = [0] * n  # next index whose container name differs
        for i in range(n - 1, -1, -1):
            self.skip[i] = i + 1 if i == n - 1 or self.names[i + 1] != self.names[i] else self.skip[i + 1]
        own: dict[str, tuple[list[int], list[int]]] = {}
        for c in claims:
            starts, ends = own.setdefault(c.container.name, ([], []))
            starts.append(c.start)
            ends.append(c.end)
        self.own = {name: (starts, sorted(ends)) for name, (starts, ends) in own.items()}
        self.has_ranges = any(c.end > c.start for c in claims)
        self._tree: list[tuple[int, str | None, int, str | None]] | None = None
        self._prefix: list[tuple] = []  # built with the tree

    def count(self, start: int, end: int, name: str) -> int:
        """Claims overlapping [start, end] whose container is not ``name``."""
        total = bisect_right(self.starts, end) - bisect_left(self.ends, start)
        starts, ends = self.own.get(name, ((), ()))
        return total - (bisect_right(starts, end) - bisect_left(ends, start))

    def overlapping(self, start: int, end: int, name: str, limit: int) -> list[_Claim]:
        """Up to ``limit`` claims overlapping [start, end] whose container is not ``name``."""
        lo, hi = bisect_left(self.starts, start), bisect_right(self.starts, end)
        found: list[_Claim] = []
        i = lo
        while i < hi and len(found) < limit:  # starting inside the range: all overlap
            if self.names[i] == name:
                i = self.skip[i]
                continue
            found.append(self.claims[i])
            i += 1
        if self.has_ranges and len(found) < limit:  # starting before it, ending inside or after
            found.extend(self.claims[i] for i in self._covering(lo, start, name, limit - len(found)))
        return found

    def _covering(self, lo: int, start: int, name: str, limit: int) -> list[int]:
        """Indexes below ``lo`` whose claim ends at or after ``start``, not of ``name``.

        A segment tree over the sorted claims keeps, per node, the latest end and the latest
        end of a different container, so subtrees that hold only ``name`` are skipped whole.
        """
        if lo == 0:
            return []
        tree = self._tree if self._tree is not None else self._build()
        end1, name1, index1, end2, _, index2 = self._prefix[lo - 1]
        best, index = (end1, index1) if name1 != name else (end2, index2)
        if best < start:
            return []  # nothing before ``lo`` of another container reaches ``start``
        reaching = lo - bisect_left(self.ends, start)  # an end before ``start`` has its start before it too
        starts, ends = self.own.get(name, ((), ()))
        reaching -= bisect_left(starts, start) - bisect_left(ends, start)
        if reaching == 1:  # the usual case (one wide range reaches it): the latest-ending one
            return [index]
        size = len(tree) // 2
        out: list[int] = []
        stack = [(1, 0, size)]
        while stack and len(out) < limit:
            node, left, right = stack.pop()
            if left >= lo:
                continue
            end1, name1, end2, _ = tree[node]
            if (end1 if name1 != name else end2) < start:
                continue
            if node >= size:
                out.append(node - size)
                continue
            middle = (left + right) // 2
            stack.append((2 * node + 1, middle, right))
            stack.append((2 * node, left, middle))
        return out

    def _build(self) -> list[tuple[int, str | None, int, str | None]]:
        size = 1
        while size < len(self.claims):
            size *= 2
        none: tuple[int, str | None, int, str | None] = (-1, None, -1, None)
        tree = [none] * (2 * size)
        for i, c in enumerate(self.claims):
            tree[size + i] = (c.end, c.container.name, -1, None)
        for node in range(size - 1, 0, -1):
            tree[node] = _merge(tree[2 * node], tree[2 * node + 1])
        # The same two ends over every prefix, with the index each came from.
        self._prefix = []
        top: tuple = (-1, None, -1, -1, None, -1)
        for i, c in enumerate(self.claims):
            top = _push(top, c.end, c.container.name, i)
            self._prefix.append(top)
        self._tree = tree
        return tree


def _push(top: tuple, end: int, name: str, index: int) -> tuple:
    """``(end, name, index)`` of the latest end and of the latest end of another name, after
    one more claim."""
    end1, name1, index1, end2, name2, index2 = top
    if end > end1:
        return (
            (end, name, index, end1, name1, index1)
            if name != name1
            else (end, name, index, end2, name2, index2)
        )
    if name != name1 and end > end2:
        return end1, name1, index1, end, name, index
    return top


def _merge(a: tuple, b: tuple) -> tuple:
    """The latest end, and the latest end of another name, over two nodes."""
    top, other = (a, b) if a[0] >= b[0] else (b, a)
    end2, name2 = top[2], top[3]
    if other[1] != top[1]:
        if other[0] > end2:
            end2, name2 = other[0], other[1]
    elif other[2] > end2:
        end2, name2 = other[2], other[3]
    return top[0], top[1], end2, name2


class _Claims:
    """Every fixed host-port claim; the contested ones split into lanes so that one claim is
    compared only with those its address can overlap: all (empty IP), a family (wildcard), or
    one address."""

    def __init__(self, snapshot: Snapshot):
        groups: dict[tuple, list[_Claim]] = {}
        self.claims = [
            _Claim(c, p, p.host_port, p.host_port + p.host_port_count - 1)
            for c in snapshot.containers
            for p in c.published_ports
            if p.host_port is not None
        ]
        self.contested = _contested(self.claims)
        seen: set[tuple] = set()
        for i in sorted(self.contested):
            claim, p = self.claims[i], self.claims[i].port
            if claim.identity in seen:
                continue
            seen.add(claim.identity)
            family, kind, key = _address_class(p.host_ip)
            groups.setdefault((p.protocol, "every"), []).append(claim)
            if kind == "all":
                groups.setdefault((p.protocol, "all"), []).append(claim)
            else:
                groups.setdefault((p.protocol, "family", family), []).append(claim)
                exact = (
                    (p.protocol, "wildcard", family)
                    if kind == "wildcard"
                    else (p.protocol, "one", family, key)
                )
                groups.setdefault(exact, []).append(claim)
        self.lanes = {key: _Lane(claims) for key, claims in groups.items()}

    def _lanes_for(self, port: PortBinding) -> list[_Lane]:
        family, kind, key = _address_class(port.host_ip)
        proto = port.protocol
        if kind == "all":
            wanted: list[tuple] = [(proto, "every")]
        elif kind == "wildcard":
            wanted = [(proto, "family", family), (proto, "all")]
        else:
            wanted = [(proto, "one", family, key), (proto, "wildcard", family), (proto, "all")]
        return [self.lanes[k] for k in wanted if k in self.lanes]

    def others(self, claim: _Claim) -> tuple[list[str], int]:
        """Labels of other containers' clashing claims (all of them, or ``SHOWN`` when more
        clash), and how many clashing claims are not listed."""
        name = claim.container.name
        lanes = self._lanes_for(claim.port)
        total = sum(lane.count(claim.start, claim.end, name) for lane in lanes)
        if total == 0:
            return [], 0
        found: list[_Claim] = []
        for lane in lanes:
            found += lane.overlapping(claim.start, claim.end, name, SHOWN - len(found))
        return sorted({c.label for c in found}), total - len(found)


def _contested(claims: list[_Claim]) -> set[int]:
    """Indexes of the claims whose host ports overlap a claim of another container on the same
    protocol, whatever the addresses. Only these can clash, so only these are indexed: one
    container publishing 65,535 ports costs a sort and two passes."""
    by_protocol: dict[str, list[int]] = {}
    for i, claim in enumerate(claims):
        by_protocol.setdefault(claim.port.protocol, []).append(i)
    out: set[int] = set()
    for order in by_protocol.values():
        order.sort(key=lambda i: claims[i].start)
        top: tuple = (-1, None, -1, None)  # latest end so far, and latest end of another name
        for i in order:
            claim, name = claims[i], claims[i].container.name
            if (top[0] if top[1] != name else top[2]) >= claim.start:
                out.add(i)  # an earlier-starting claim of another container reaches this one
            top = _merge(top, (claim.end, name, -1, None))
        later_other: int | None = None  # the next claim (by start) of another container
        for k in range(len(order) - 1, -1, -1):
            claim = claims[order[k]]
            # When the same container follows, the next other one it had stays the candidate.
            if k + 1 < len(order) and claims[order[k + 1]].container.name != claim.container.name:
                later_other = order[k + 1]
            if later_other is not None and claims[later_other].start <= claim.end:
                out.add(order[k])
    return out


def check(snapshot: Snapshot) -> Iterator[Observation]:
    index = _Claims(snapshot)
    reported: set[tuple[str, str]] = set()
    for i in sorted(index.contested):
        claim = index.claims[i]
        container, port = claim.container, claim.port
        key = f"{port_key(port)}:{port.host_port}"
        if (container.name, key) in reported:
            continue
        shown, more = index.others(claim)
        if not shown:
            continue
        reported.add((container.name, key))
        if more:
            who, also = f"{', '.join(shown)} and {more} more", "also claim"
            listed = "; ".join(shown) + f"; and {more} more"
        else:
            who, also = " and ".join(shown), f"also claim{'s' if len(shown) == 1 else ''}"
            listed = "; ".join(shown)
        yield Observation(
            subject=container,
            message=f"{name_of(container)} claims host port {port.display()}, which {who} {also}.",
            key=key,
            evidence=(*port_evidence(port), ("also_claimed_by", listed)),
            origin=port.origin,
        )


RULE = Rule(META, check)
