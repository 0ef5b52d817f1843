"""The versioned JSON result (documented in the README), a pure function of a scan result."""

from __future__ import annotations

from typing import IO, Any

from auditor.model.bench import to_json as bench_json
from auditor.model.exposure import EXPOSURE_KEY_VERSION, ZoneReach
from auditor.model.findings import Finding, ScanResult, TargetResult
from auditor.model.history import FindingDiff
from auditor.model.jsontext import write as write_json
from auditor.model.records import Snapshot
from auditor.model.topology import Topology, topology_of

from .ci_common import policy_json
from .formats import DIFF, SCAN, OutputFormat

SCHEMA_VERSION = "1.0"


def target_json(t: TargetResult) -> dict[str, Any]:
    return {
        "kind": t.target.kind.value,
        "name": t.target.name,
        "address": t.target.address,
        "status": t.status,
        "error": t.error,
        "notes": list(t.notes),
        "not_checked": list(t.not_checked),
        "containers": t.containers,
        "networks": t.networks,
    }


def finding_json(f: Finding) -> dict[str, Any]:
    loc = f.location
    out: dict[str, Any] = {
        "rule_id": f.rule_id,
        "severity": f.severity.label,
        "title": f.title,
        "message": f.message,
        "resource": {
            "kind": f.resource.kind,
            "name": f.resource.name,
            "id": f.resource.id,
            "project": f.resource.project,
            "host": f.resource.host,
        },
        "location": {
            "source": loc.kind.value if loc else None,
            "uri": loc.uri if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
        },
        "evidence": dict(f.evidence),
        "remediation": f.remediation,
        "references": [{"title": r.title, "url": r.url} for r in f.references],
        "fingerprint": f.fingerprint,
        "status": f.status,
    }
    if f.baseline is not None:
        out["baseline"] = f.baseline
    if f.waiver is not None:
        out["waiver"] = dict(f.waiver.items())
    return out


def gate_json(result: ScanResult) -> dict[str, Any]:
    gate = result.gate()
    return {
        "fail_on": gate.fail_on,
        "passed": gate.verdict == "passed",
        "verdict": gate.verdict,
        "failing": gate.failing,
    }


def result_json(result: ScanResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "auditor", "version": result.tool_version},
        "scan": {
            "started_at": result.started_at.isoformat(),
            "duration_s": result.duration_s,
            "complete": result.complete,
            "rules_run": list(result.rules_run),
        },
        "targets": [target_json(t) for t in result.targets],
        "summary": result.counts(),
        "gate": gate_json(result),
        "rule_errors": [
            {"rule_id": e.rule_id, "target": e.target, "error": e.error} for e in result.rule_errors
        ],
        "findings": [finding_json(f) for f in result.findings],
    }
    policy = policy_json(result)  # waivers, expired waivers, baseline (when a policy ran)
    if policy is not None:
        out["policy"] = policy
    topology = result.topology or topology_of(result.snapshots)  # names only
    if topology is not None:
        out["topology"] = topology_json(topology)
    analysed = [s for s in result.snapshots if s.exposure is not None]
    if analysed:  # who really reaches each port, per target whose firewall was analysed
        out["exposure"] = exposure_json(analysed)
    if result.benchmark is not None:  # `scan --bench`: kept so `auditor report` can chart it
        out["benchmark"] = bench_json(result.benchmark)
    return out


def render(result: ScanResult, stream: IO[str]) -> None:
    write_json(result_json(result), stream)


def topology_json(topology: Topology) -> dict[str, Any]:
    """The ``"topology"`` key: each target's networks and containers, names only."""
    return {
        "targets": [
            {
                "target": t.target,
                "kind": t.kind,
                "networks": [
                    {
                        "name": n.name,
                        "driver": n.driver,
                        "internal": n.internal,
                        "default_bridge": n.default_bridge,
                        "icc": n.icc,
                    }
                    for n in t.networks
                ],
                "containers": [
                    {
                        "kind": c.kind,
                        "name": c.name,
                        "state": c.state,
                        "network_mode": c.network_mode,
                        "joins": c.joins,
                        "networks": list(c.networks),
                        "ports": [
                            {
                                "display": p.display,
                                "exposure": p.exposure,
                                **({"outside": p.outside} if p.outside is not None else {}),
                            }
                            for p in c.ports
                        ],
                        "exposure": c.exposure,
                        **({"outside": c.outside} if c.outside is not None else {}),
                    }
                    for c in t.containers
                ],
            }
            for t in topology.targets
        ]
    }


def _cells_json(cells: tuple[ZoneReach, ...]) -> list[dict[str, Any]]:
    """One port's cells (a result holds thousands: the fields are unpacked, not read one by
    one, and the answers' enums and tuples are left to the encoder, which writes them as their
    values and arrays)."""
    out = []
    for zone, _kind, relation, verdict, via, destination, trace, reasons, note, published in cells:
        cell = {"zone": zone, "relation": relation, "verdict": verdict, "via": via, "destination": destination,
                "trace": trace, "reasons": reasons, "published": published}  # fmt: skip
        if note:
            cell["note"] = note
        out.append(cell)
    return out


def exposure_json(snapshots: list[Snapshot]) -> dict[str, Any]:
    """The ``"exposure"`` key (its own ``schema_version``): per analysed target, the source
    zones and, for every container port, each zone's verdict with the rule trace."""
    targets = []
    for snap in snapshots:
        exp = snap.exposure
        if exp is None:
            continue
        targets.append({
            "target": snap.target.name,
            "zones": [{"id": z.id, "kind": z.kind, "interface": z.interface, "network": z.network,
                       "description": z.description} for z in exp.zones],
            "ports": [
                {
                    "container": p.container, "port": p.port, "protocol": p.protocol,
                    "network_mode": p.network_mode, "bindings": list(p.bindings),
                    "outside": p.outside.value if p.outside is not None else None,
                    "cells": _cells_json(p.cells),
                }
                for p in exp.ports
            ],
            "notes": list(exp.notes),
        })  # fmt: skip
    return {"schema_version": EXPOSURE_KEY_VERSION, "targets": targets}


def render_diff(diff: FindingDiff, stream: IO[str]) -> None:
    write_json(diff.to_json(), stream)


FORMAT = OutputFormat("json", (".json",), ((SCAN, render), (DIFF, render_diff)))  # bench: bench_json.py
