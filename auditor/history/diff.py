"""What changed between two scans: new, resolved and changed findings, matched by fingerprint.

Fingerprints are built from names (rule, host, project, resource, key), never from container
ids, so a re-created container keeps its findings and only real changes show up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.history.records import SEVERITY_LABELS, FindingRecord

DIFF_SCHEMA_VERSION = "1.0"
COMPARED_FIELDS = ("severity", "message", "status", "evidence", "title")


@dataclass(frozen=True)
class DiffSide:
    """One side of a diff: a recorded scan or a saved JSON report."""

    label: str  # "scan 12" or a file path
    started_at: str | None
    targets: tuple[str, ...]
    scan_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "scan_id": self.scan_id, "started_at": self.started_at,
                "targets": list(self.targets)}


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
        return {"new": len(self.added), "resolved": len(self.resolved),
                "changed": len(self.changed), "unchanged": self.unchanged}

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


def _by_fingerprint(findings: Iterable[FindingRecord]) -> dict[str, FindingRecord]:
    out: dict[str, FindingRecord] = {}
    for f in findings:
        out.setdefault(f.fingerprint, f)  # the same engine scanned twice repeats fingerprints
    return out


def changed_fields(before: FindingRecord, after: FindingRecord) -> tuple[str, ...]:
    return tuple(name for name in COMPARED_FIELDS if getattr(before, name) != getattr(after, name))


_RANK = {label: i for i, label in enumerate(SEVERITY_LABELS)}


def _order(f: FindingRecord) -> tuple:
    return (_RANK.get(f.severity, len(_RANK)), f.rule_id, f.target, f.project or "", f.resource_name,
            f.fingerprint)


def diff_findings(old: DiffSide, old_findings: Iterable[FindingRecord], new: DiffSide,
                  new_findings: Iterable[FindingRecord], warnings: Iterable[str] = ()) -> FindingDiff:
    """Compare two sets of findings; output is sorted most severe first, deterministically."""
    before = _by_fingerprint(old_findings)
    after = _by_fingerprint(new_findings)
    added = sorted((after[k] for k in after.keys() - before.keys()), key=_order)
    resolved = sorted((before[k] for k in before.keys() - after.keys()), key=_order)
    changes, unchanged = [], 0
    for key in before.keys() & after.keys():
        fields = changed_fields(before[key], after[key])
        if fields:
            changes.append(Change(before[key], after[key], fields))
        else:
            unchanged += 1
    changes.sort(key=lambda c: _order(c.after))
    return FindingDiff(old, new, tuple(added), tuple(resolved), tuple(changes), unchanged, tuple(warnings))


def side_from_report(doc: Mapping[str, Any], path: str) -> tuple[DiffSide, list[FindingRecord]]:
    """A saved ``auditor scan -f json`` report as one side of a diff (KeyError/TypeError if malformed)."""
    targets = tuple(str(t["name"]) for t in doc.get("targets", []))
    scan = doc.get("scan") or {}
    findings = [FindingRecord.from_report(f) for f in doc["findings"]]
    return DiffSide(path, scan.get("started_at"), targets), findings
