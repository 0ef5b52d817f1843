"""What the exposure analysis needs of a host, and what it answered, as frozen model records.

``HostDumps`` holds the raw texts read in the scanned daemon's network namespace (firewall
dumps, addresses, routes, sysctls, docker-proxy listeners): a snapshot file carries them, so
a scan of that file analyses the same host without reading the machine again. ``None`` in a
field means that dump was not read (unknown), never "empty".

``Exposure`` is the answer the pipeline hands to rules and reporters: for each container port,
one ``Reach`` per source zone with the trace of the netfilter rules that decided it. It is the
scan's view of ``auditor.exposure``'s matrix (built there; this floor imports nothing of ours).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum
from functools import cached_property
from typing import NamedTuple

EXPOSURE_KEY_VERSION = "1.0"  # the ``"exposure"`` key of the JSON result

# Field -> file name of a dump directory (the names ``auditor.exposure.load_dumps`` reads).
DUMP_FILES: tuple[tuple[str, str], ...] = (
    ("iptables_save", "iptables-save.txt"),
    ("ip6tables_save", "ip6tables-save.txt"),
    ("iptables_legacy_save", "iptables-legacy-save.txt"),
    ("ip6tables_legacy_save", "ip6tables-legacy-save.txt"),
    ("nft_json", "nft.json"),
    ("ipset_save", "ipset-save.txt"),
    ("ip_addr", "ip-addr.json"),
    ("ip_route", "ip-route.json"),
    ("ip6_route", "ip6-route.json"),
    ("sysctl", "sysctl.txt"),
    ("docker_proxy", "docker-proxy.txt"),
    ("ss_listen", "ss-listen.txt"),
)
FIREWALL_DUMPS = ("iptables_save", "ip6tables_save", "iptables_legacy_save", "ip6tables_legacy_save", "nft_json",
                  "ipset_save")  # fmt: skip
NETWORK_DUMPS = ("ip_addr", "ip_route", "ip6_route", "sysctl", "docker_proxy", "ss_listen")


@dataclass(frozen=True)
class HostDumps:
    """Raw dumps of one daemon's network namespace; ``None`` = not read (unknown)."""

    iptables_save: str | None = None
    ip6tables_save: str | None = None
    iptables_legacy_save: str | None = None
    ip6tables_legacy_save: str | None = None
    nft_json: str | None = None
    ipset_save: str | None = None
    ip_addr: str | None = None
    ip_route: str | None = None
    ip6_route: str | None = None
    sysctl: str | None = None
    docker_proxy: str | None = None
    ss_listen: str | None = None
    source: str = ""  # where they were read: "live in netns NAME", a snapshot file

    def texts(self, names: tuple[str, ...]) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in names}

    def to_json(self) -> dict[str, str]:
        """The dumps that were read (absent keys were not), and the source."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        return dict(sorted(out.items()))


def host_dumps_from_json(doc: object) -> HostDumps | None:
    """``HostDumps.to_json`` read back; ``None`` when ``doc`` is not an object. Values that are
    not strings stay unknown."""
    if not isinstance(doc, dict):
        return None
    known = {f.name for f in fields(HostDumps)}
    picked = {k: v for k, v in doc.items() if k in known and isinstance(v, str)}
    return HostDumps(**picked)


class Reach(str, Enum):
    REACHABLE = "reachable"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


OUTSIDE_KINDS = frozenset({"lan", "internet"})


@dataclass(frozen=True)
class ExposureZone:
    """A source zone: ``lan:eth0``, ``internet:eth0``, ``host``, ``network:NAME``."""

    id: str
    kind: str  # lan | internet | host | network
    interface: str | None
    network: str | None
    description: str


class ZoneReach(NamedTuple):
    """The answer for one (zone, container port): the verdict, how (``via`` published /
    direct / host, to ``destination``) and the trace of the rules that decided it (a named
    tuple: one per cell of the matrix)."""

    zone: str
    kind: str
    relation: str  # same-network | other-network | outside | host
    verdict: Reach
    via: str | None = None
    destination: str | None = None
    trace: str = ""
    reasons: tuple[str, ...] = ()
    note: str = ""
    # the answer through the published host ports alone (``None``: no published attempt from
    # this zone); ``verdict`` also counts routing straight to the container's address
    published: Reach | None = None


@dataclass(frozen=True)
class PortReach:
    """One container port (published or not) and its answer from every zone."""

    container: str
    port: int
    protocol: str
    network_mode: str
    bindings: tuple[str, ...]  # what Docker publishes (empty: unpublished)
    cells: tuple[ZoneReach, ...]

    @property
    def published(self) -> bool:
        return bool(self.bindings)

    def among(self, kinds: frozenset[str]) -> Reach | None:
        """Reachable if a zone of these kinds reaches it, unknown if none does but one may,
        blocked if every one is blocked; ``None`` when the host has no such zone."""
        verdicts = {c.verdict for c in self.cells if c.kind in kinds}
        if not verdicts:
            return None
        for wanted in (Reach.REACHABLE, Reach.UNKNOWN):
            if wanted in verdicts:
                return wanted
        return Reach.BLOCKED

    @property
    def outside(self) -> Reach | None:
        """The answer for clients beyond the host (LAN neighbours, the internet)."""
        return self.among(OUTSIDE_KINDS)

    @property
    def outside_published(self) -> Reach | None:
        """The answer for outside clients through the published host ports only: a zone with
        no published attempt counts as blocked; ``None`` when the host has no outside zone."""
        cells = [c for c in self.cells if c.kind in OUTSIDE_KINDS]
        if not cells:
            return None
        verdicts = {c.published or Reach.BLOCKED for c in cells}
        for wanted in (Reach.REACHABLE, Reach.UNKNOWN):
            if wanted in verdicts:
                return wanted
        return Reach.BLOCKED

    def zones(self, verdict: Reach, kinds: frozenset[str] | None = None) -> tuple[ZoneReach, ...]:
        return tuple(c for c in self.cells if c.verdict is verdict and (kinds is None or c.kind in kinds))

    def first(self, verdict: Reach, kinds: frozenset[str] | None = None) -> ZoneReach | None:
        found = self.zones(verdict, kinds)
        return found[0] if found else None


@dataclass(frozen=True)
class Exposure:
    """The exposure of one target's container ports; ``notes`` say what limited the analysis."""

    zones: tuple[ExposureZone, ...]
    ports: tuple[PortReach, ...]
    notes: tuple[str, ...] = ()
    version: str = EXPOSURE_KEY_VERSION

    def port(self, container: str, port: int, protocol: str = "tcp") -> PortReach | None:
        """One port's answers (an index lookup: rules ask once per port)."""
        return self._index.get((container, port, protocol))

    @cached_property
    def _index(self) -> dict[tuple[str, int, str], PortReach]:
        return {(p.container, p.port, p.protocol): p for p in self.ports}


def describe_zones(cells: tuple[ZoneReach, ...], limit: int = 3) -> str:
    """``lan:eth0, internet:eth0`` (at most ``limit``, then ``and N more``)."""
    names = [c.zone for c in cells]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
