"""What the history keeps of a scan, and what a diff of two scans is: plain records.

Built from a ScanResult, a database row or a saved JSON report, so ``diff`` compares them the
same way whatever they came from; reporters render ``FindingDiff`` without importing history."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.model.findings import Finding, ScanResult
from auditor.model.severity import Severity

SEVERITY_LABELS = tuple(s.label for s in sorted(Severity, reverse=True))


@dataclass(frozen=True)
class FindingRecord:
    """One finding as stored: enough to list it, compare it and point at it."""

    fingerprint: str
    rule_id: str
    severity: str
    title: str
    message: str
    resource_kind: str
    resource_name: str
    project: str | None
    target: str
    status: str
    location: str | None
    evidence: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_finding(cls, f: Finding) -> FindingRecord:
        return cls(
            fingerprint=f.fingerprint,
            rule_id=f.rule_id,
            severity=f.severity.label,
            title=f.title,
            message=f.message,
            resource_kind=f.resource.kind,
            resource_name=f.resource.name,
            project=f.resource.project,
            target=f.resource.host or "",
            status=f.status,
            location=f.location.uri if f.location else None,
            evidence=tuple((str(k), str(v)) for k, v in f.evidence),
        )

    @classmethod
    def from_report(cls, doc: Mapping[str, Any]) -> FindingRecord:
        """From one entry of the JSON report's ``findings`` list (KeyError if malformed)."""
        resource = doc["resource"]
        location = doc.get("location") or {}
        evidence = doc.get("evidence") or {}
        return cls(
            fingerprint=str(doc["fingerprint"]),
            rule_id=str(doc["rule_id"]),
            severity=str(doc["severity"]),
            title=str(doc.get("title", "")),
            message=str(doc.get("message", "")),
            resource_kind=str(resource["kind"]),
            resource_name=str(resource["name"]),
            project=resource.get("project"),
            target=str(resource.get("host") or ""),
            status=str(doc.get("status", "open")),
            location=location.get("uri"),
            evidence=tuple((str(k), str(v)) for k, v in dict(evidence).items()),
        )

    def evidence_json(self) -> str:
        return json.dumps(dict(self.evidence), sort_keys=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule_id": self.rule_id,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "resource": {
                "kind": self.resource_kind,
                "name": self.resource_name,
                "project": self.project,
                "host": self.target,
            },
            "location": self.location,
            "status": self.status,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class TargetScan:
    """One target within one recorded scan: a row of ``auditor history``."""

    scan_id: int
    started_at: str
    duration_s: float
    tool_version: str
    verdict: str
    source: str
    target: str
    kind: str
    address: str
    status: str
    error: str | None
    containers: int
    networks: int
    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)

    def to_json(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "tool_version": self.tool_version,
            "verdict": self.verdict,
            "source": self.source,
            "target": {
                "name": self.target,
                "kind": self.kind,
                "address": self.address,
                "status": self.status,
                "error": self.error,
                "containers": self.containers,
                "networks": self.networks,
            },
            "summary": {**dict(self.counts), "total": self.total},
        }


def target_counts(result: ScanResult, target: str) -> dict[str, int]:
    """Open findings of one target by severity (waived ones are not counted)."""
    counts = dict.fromkeys(SEVERITY_LABELS, 0)
    for f in result.findings:
        if f.resource.host == target and f.status == "open":
            counts[f.severity.label] += 1
    return counts


DIFF_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class DiffSide:
    """One side of a diff: a recorded scan or a saved JSON report."""

    label: str  # "scan 12" or a file path
    started_at: str | None
    targets: tuple[str, ...]
    scan_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "scan_id": self.scan_id,
            "started_at": self.started_at,
            "targets": list(self.targets),
        }


@dataclass(frozen=True)
class Change:
    before: FindingRecord
    after: FindingRecord
    fields: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.after.fingerprint,
            "fields": list(self.fields),
            "before": self.before.to_json(),
            "after": self.after.to_json(),
        }


@dataclass(frozen=True)
class FindingDiff:
    old: DiffSide
    new: DiffSide
    added: tuple[FindingRecord, ...]
    resolved: tuple[FindingRecord, ...]
    changed: tuple[Change, ...]
    unchanged: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> dict[str, int]:
        return {
            "new": len(self.added),
            "resolved": len(self.resolved),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": DIFF_SCHEMA_VERSION,
            "kind": "auditor-diff",
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "summary": self.summary,
            "warnings": list(self.warnings),
            "new_findings": [f.to_json() for f in self.added],
            "resolved_findings": [f.to_json() for f in self.resolved],
            "changed_findings": [c.to_json() for c in self.changed],
        }
