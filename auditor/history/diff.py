"""What changed between two scans: new, resolved and changed findings, matched by fingerprint.

Fingerprints are built from names (rule, host, project, resource, key), never from container
ids, so a re-created container keeps its findings and only real changes show up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.model.history import SEVERITY_LABELS, Change, DiffSide, FindingDiff, FindingRecord

COMPARED_FIELDS = ("severity", "message", "status", "evidence", "title")


def _by_fingerprint(findings: Iterable[FindingRecord]) -> dict[str, FindingRecord]:
    out: dict[str, FindingRecord] = {}
    for f in findings:
        out.setdefault(f.fingerprint, f)  # the same engine scanned twice repeats fingerprints
    return out


def changed_fields(before: FindingRecord, after: FindingRecord) -> tuple[str, ...]:
    return tuple(name for name in COMPARED_FIELDS if getattr(before, name) != getattr(after, name))


_RANK = {label: i for i, label in enumerate(SEVERITY_LABELS)}


def _order(f: FindingRecord) -> tuple:
    return (
        _RANK.get(f.severity, len(_RANK)),
        f.rule_id,
        f.target,
        f.project or "",
        f.resource_name,
        f.fingerprint,
    )


def diff_findings(
    old: DiffSide,
    old_findings: Iterable[FindingRecord],
    new: DiffSide,
    new_findings: Iterable[FindingRecord],
    warnings: Iterable[str] = (),
) -> FindingDiff:
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
