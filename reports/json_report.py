"""The versioned JSON result (documented in the README), a pure function of a scan result."""

from __future__ import annotations

import json
from typing import IO, Any

from auditor.model.bench import to_json as bench_json
from auditor.model.findings import Finding, ScanResult, TargetResult

from .ci_common import policy_json
from .topology import topology_json

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
        out["waiver"] = dict(f.waiver)
    return out


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
        "gate": {
            "fail_on": result.fail_on.label if result.fail_on is not None else "none",
            "passed": result.gate_passed and result.complete,
            "verdict": result.verdict,
            "failing": len(result.gated_findings),
        },
        "rule_errors": [
            {"rule_id": e.rule_id, "target": e.target, "error": e.error} for e in result.rule_errors
        ],
        "findings": [finding_json(f) for f in result.findings],
    }
    policy = policy_json(result)  # waivers, expired waivers, baseline (when a policy ran)
    if policy is not None:
        out["policy"] = policy
    topology = topology_json(result)  # names only: networks, containers, published ports
    if topology is not None:
        out["topology"] = topology
    benchmark = result.extras.get("benchmark")  # `scan --bench`: kept so `auditor report` can chart it
    if benchmark is not None:
        out["benchmark"] = bench_json(benchmark)
    return out


def render(result: ScanResult, stream: IO[str]) -> None:
    stream.write(json.dumps(result_json(result), indent=2))
    stream.write("\n")
