"""Which two sides a diff compares: recorded scans (by id, or a target's last two) or saved
``auditor scan -f json`` reports; loads both and computes the diff."""

from __future__ import annotations

from auditor.history import Store, open_store
from auditor.history.diff import diff_findings, side_from_report
from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.history import DiffSide, FindingDiff, FindingRecord


def _is_scan_id(text: str) -> bool:
    return text.isdigit()


def load_report(path: str) -> tuple[DiffSide, list[FindingRecord]]:
    doc = inputs.load_json(path, "JSON report")
    if not isinstance(doc, dict):
        raise InputError("not an `auditor scan -f json` report (expected a JSON object)", path)
    try:
        return side_from_report(doc, path)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise InputError(
            "not an `auditor scan -f json` report (missing findings, fingerprints or resources)", path
        ) from None


def choose_target(db: Store, target: str | None) -> str:
    if target is not None:
        return target
    names = db.target_names()
    if len(names) == 1:
        return names[0]
    if not names:
        raise InputError(f"no scans recorded in {db.description} yet (run `auditor scan --store`)")
    raise InputError(f"several targets recorded; choose one with --target ({', '.join(names)})")


def scan_side(db: Store, scan_id: int, target: str | None) -> tuple[DiffSide, list[FindingRecord], list[str]]:
    rows = db.scan_targets(scan_id)
    if not rows:
        raise InputError(f"no scan {scan_id} in {db.description} (see `auditor history`)")
    if target is not None:
        rows = [r for r in rows if r.target == target]
        if not rows:
            raise InputError(f"scan {scan_id} did not scan target {target!r}")
    warnings = [
        f"scan {scan_id}: target {r.target} was {r.status}"
        + (f" ({r.error})" if r.error else "")
        + "; its findings are not comparable"
        for r in rows
        if r.status != "complete"
    ]
    side = DiffSide(
        f"scan {scan_id}", rows[0].started_at, tuple(dict.fromkeys(r.target for r in rows)), scan_id
    )
    return side, db.findings(scan_id, target), warnings


def resolve_sides(
    store: str | None, old: str | None, new: str | None, target: str | None, configured: str | None = None
) -> FindingDiff:
    """Load both sides (store scans or report files) and diff them."""
    if old is not None and new is not None and not (_is_scan_id(old) or _is_scan_id(new)):
        old_side, old_findings = load_report(old)
        new_side, new_findings = load_report(new)
        if target is not None:
            old_findings = [f for f in old_findings if f.target == target]
            new_findings = [f for f in new_findings if f.target == target]
        return diff_findings(old_side, old_findings, new_side, new_findings)
    with open_store(store, configured=configured) as db:
        sides = []
        warnings: list[str] = []
        if old is None or new is None:
            name = choose_target(db, target)
            latest = db.target_scans(target=name, limit=2, only_complete=True)
            if old is None:
                if len(latest) < 2:
                    raise InputError(f"target {name!r} has fewer than two complete scans in {db.description}")
                old, new = str(latest[1].scan_id), str(latest[0].scan_id)
            else:
                new = str(latest[0].scan_id) if latest else None
                if new is None:
                    raise InputError(f"target {name!r} has no complete scan in {db.description}")
            target = name
        for ref in (old, new):
            if _is_scan_id(ref):
                side, findings, notes = scan_side(db, int(ref), target)
                warnings.extend(notes)
            else:
                side, findings = load_report(ref)
                if target is not None:
                    findings = [f for f in findings if f.target == target]
            sides.append((side, findings))
    (old_side, old_findings), (new_side, new_findings) = sides
    return diff_findings(old_side, old_findings, new_side, new_findings, warnings)
