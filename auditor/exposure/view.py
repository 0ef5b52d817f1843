"""The bridge between a scan's model records and the exposure analysis.

``facts_from_dumps`` parses a snapshot's ``HostDumps`` into ``FirewallFacts`` and
``HostNetwork``; ``exposure_of`` runs ``analyze_exposure`` for one snapshot and returns both the
full matrix and the ``Exposure`` view the rules and reporters read (model records, one
``PortReach`` per container port with one ``ZoneReach`` per zone).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from auditor.exposure.analysis import analysis_rows, analyze_exposure
from auditor.exposure.facts import FirewallFacts, HostNetwork, firewall_facts, host_network
from auditor.exposure.inputs import ExposureInputs, exposure_inputs
from auditor.exposure.matrix import Cell, ExposureMatrix, PortTarget, Verdict, Zone
from auditor.model.exposure import (
    FIREWALL_DUMPS,
    NETWORK_DUMPS,
    Exposure,
    ExposureZone,
    HostDumps,
    PortReach,
    Reach,
    ZoneReach,
)
from auditor.model.records import Snapshot


def facts_from_dumps(dumps: HostDumps) -> tuple[FirewallFacts, HostNetwork]:
    """Parse the dumps (``InputError`` when a network dump is malformed)."""
    firewall = firewall_facts(**dumps.texts(FIREWALL_DUMPS), source=dumps.source)
    network = host_network(**dumps.texts(NETWORK_DUMPS), source=dumps.source)
    return firewall, network


_REACH = {v: Reach(v.value) for v in Verdict}


def _published(cell: Cell) -> Reach | None:
    """The verdict over the attempts through published host ports (all of them were tried
    unless one was reachable: the first reachable attempt ends a cell)."""
    found = None
    for a in cell.attempts:
        if a.via != "published":
            continue
        if a.verdict is Verdict.REACHABLE:
            return Reach.REACHABLE
        if found is None or a.verdict is Verdict.UNKNOWN:
            found = a.verdict
    return None if found is None else _REACH[found]


def _zone_reach(cell: Cell, kind: str) -> ZoneReach:
    a = cell.decisive
    # positional: a view holds thousands, and keywords cost a named tuple four times as much
    return ZoneReach(cell.zone, kind, cell.relation, _REACH[cell.verdict], a.via if a is not None else None,
                     a.destination if a is not None else None, a.trace if a is not None else cell.note,
                     tuple(a.reasons) if a is not None else (),
                     cell.note, _published(cell))  # fmt: skip


def exposure_view(matrix: ExposureMatrix) -> Exposure:
    """The matrix as model records (linear in the number of cells)."""
    kinds = zone_kinds(matrix.zones)
    by_port: dict[tuple[str, int, str], list[Cell]] = {}
    for cell in matrix.cells:
        by_port.setdefault((cell.container, cell.port, cell.protocol), []).append(cell)
    return Exposure(
        zones=exposure_zones(matrix.zones),
        ports=tuple(port_reach(t, by_port.get(t.key, ()), kinds) for t in matrix.targets),
        notes=matrix.notes,
    )


def zone_kinds(zones: Sequence[Zone]) -> dict[str, str]:
    return {z.id: z.kind.value for z in zones}


def exposure_zones(zones: Sequence[Zone]) -> tuple[ExposureZone, ...]:
    return tuple(ExposureZone(z.id, z.kind.value, z.interface, z.network, z.description) for z in zones)


def port_reach(target: PortTarget, cells: Sequence[Cell], kinds: Mapping[str, str]) -> PortReach:
    """One target's row of the view: its cells (``kinds``: ``zone_kinds`` of the matrix)."""
    return PortReach(
        target.container,
        target.port,
        target.protocol,
        target.network_mode,
        target.bindings,
        tuple(_zone_reach(c, kinds[c.zone]) for c in cells),
    )


def exposure_of(snapshot: Snapshot) -> tuple[ExposureMatrix, Exposure] | None:
    """The exposure of one snapshot's containers, or ``None`` when its dumps were not read."""
    return exposure_from(exposure_inputs(snapshot))


def exposure_from(inputs: ExposureInputs) -> tuple[ExposureMatrix, Exposure] | None:
    """The exposure of ``exposure_inputs``, or ``None`` without dumps: the analysis sees these
    inputs and nothing else of the snapshot."""
    if inputs.dumps is None:
        return None
    firewall, network = facts_from_dumps(inputs.dumps)
    matrix = analyze_exposure(inputs.containers, inputs.networks, firewall, network, inputs.daemon)
    return matrix, exposure_view(matrix)


def exposure_stream(
    inputs: ExposureInputs, facts: tuple[FirewallFacts, HostNetwork] | None = None
) -> tuple[tuple[ExposureZone, ...], tuple[str, ...], Iterator[PortReach]] | None:
    """``exposure_from``'s view as it is computed: its zones, its notes and its ports one by
    one, for a caller that passes them on before the last is done (``Exposure(zones, ports,
    notes)`` of all of them equals ``exposure_from(inputs)[1]``). ``facts``: the inputs'
    dumps as ``facts_from_dumps`` parsed them already."""
    if inputs.dumps is None:
        return None
    firewall, network = facts if facts is not None else facts_from_dumps(inputs.dumps)
    zones, notes, rows = analysis_rows(inputs.containers, inputs.networks, firewall, network, inputs.daemon)
    kinds = zone_kinds(zones)
    return exposure_zones(zones), notes, (port_reach(t, cells, kinds) for t, cells in rows)
