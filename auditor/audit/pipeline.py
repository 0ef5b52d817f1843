"""collect -> Snapshot -> rules -> findings: the scan as plain function calls.

Each target is collected on its own; a target that fails becomes a failed ``TargetResult``
(the others are still scanned), so one bad file or unreachable host never hides the rest.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.audit.run import run_rules
from auditor.collectors.base import Collected
from auditor.collectors.request import ScanRequest
from auditor.collectors.sources import HostProgress, collect
from auditor.exposure.inputs import exposure_inputs
from auditor.model.errors import AuditorError, InputError
from auditor.model.findings import Finding, RuleError, ScanResult, TargetResult, sort_findings
from auditor.model.records import Snapshot
from auditor.model.rule import Rule
from auditor.model.severity import Severity

if TYPE_CHECKING:  # a compose scan never loads the engine's child (nor its threads)
    from auditor.collectors.ahead import HostChild

PARTIAL_VIEW = "partial view: "  # a target read only in part (a compose fragment): why


def target_result(item: Collected) -> TargetResult:
    if item.snapshot is None:
        failure = item.error or AuditorError("unknown failure")
        return TargetResult(
            target=item.target,
            status="failed",
            error=str(failure),
            input_error=isinstance(failure, InputError),
        )
    snap = item.snapshot
    error = str(item.error) if item.error is not None else None
    if snap.incomplete:
        more = len(snap.incomplete) - 3  # one per unreadable field: a hostile file can have thousands
        partial = PARTIAL_VIEW + "; ".join(snap.incomplete[:3]) + (f"; and {more} more" if more > 0 else "")
        error = partial if error is None else f"{error}; {partial}"
    return TargetResult(
        target=item.target,
        status="complete" if error is None else "incomplete",
        error=error,
        notes=snap.notes,
        not_checked=snap.not_checked,
        containers=len(snap.containers),
        networks=len(snap.networks),
    )


def with_exposure(snapshot: Snapshot, ahead: HostChild | None = None) -> Snapshot:
    """The snapshot with its exposure computed (once per target, before any rule runs) when
    its host dumps were read; a dump that cannot be parsed (or a fault in the analysis) leaves
    it out, with a note: the rules then reason from the daemon's settings as without dumps.
    ``ahead``: the collector's child, whose exposure is taken when it was computed from the
    same inputs as this snapshot's (``HostChild.exposure``)."""
    if snapshot.host_dumps is None or snapshot.exposure is not None:
        return snapshot
    collecting = gc.isenabled()
    gc.disable()  # the analysis' objects all live until it ends: collecting midway finds nothing
    try:
        inputs = exposure_inputs(snapshot)
        found = ahead.exposure(inputs) if ahead is not None else None
        if found is not None:
            return replace(snapshot, exposure=found)
        from auditor.exposure.view import exposure_from  # loaded only when this process analyses

        computed = exposure_from(inputs)
    except InputError as exc:
        return replace(snapshot, notes=(*snapshot.notes, f"exposure not analysed: {exc}"))
    except Exception as exc:  # noqa: BLE001 - a fault in the analysis must not end the scan
        note = f"exposure not analysed: internal error {type(exc).__name__}: {exc}"
        return replace(snapshot, notes=(*snapshot.notes, note))
    finally:
        if collecting:
            gc.enable()
    return snapshot if computed is None else replace(snapshot, exposure=computed[1])


def _ahead(item: Collected) -> HostChild | None:
    return item.raw.ahead if item.raw is not None else None  # a HostChild, live engines only


def evaluate(
    collected: Sequence[Collected],
    rules: Sequence[Rule],
    fail_on: Severity | None,
    started_at: datetime,
    started: float,
) -> ScanResult:
    """Run the rules over every collected snapshot and assemble the result."""
    try:
        collected = [
            replace(i, snapshot=with_exposure(i.snapshot, _ahead(i))) if i.snapshot else i for i in collected
        ]
    finally:
        for item in collected:
            child = _ahead(item)
            if child is not None:
                child.close()
    findings: list[Finding] = []
    errors: list[RuleError] = []
    for item in collected:
        if item.snapshot is None:
            continue
        run = run_rules(item.snapshot, rules)
        findings.extend(run.findings)
        errors.extend(run.errors)
    targets = []
    crashed_targets = {e.target for e in errors}
    for item in collected:
        result = target_result(item)
        if result.status == "complete" and item.target.name in crashed_targets:
            result = replace(result, status="incomplete", error="a rule crashed")
        targets.append(result)
    return ScanResult(
        tool_version=__version__,
        started_at=started_at,
        duration_s=round(time.monotonic() - started, 3),
        fail_on=fail_on,
        targets=tuple(targets),
        findings=sort_findings(findings),
        rule_errors=tuple(errors),
        rules_run=tuple(r.id for r in rules),
        snapshots=tuple(i.snapshot for i in collected if i.snapshot is not None),
    )


def scan(
    request: ScanRequest,
    rules: Sequence[Rule],
    fail_on: Severity | None,
    host_progress: HostProgress | None = None,
    children: Sequence[HostChild | None] | None = None,
) -> ScanResult:
    """``children``: the engines' host children, forked ahead for this request
    (``collectors.sources.forked_ahead``, with ``exposure_ahead``)."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    collected = collect(request, host_progress=host_progress, exposure_ahead=True, children=children)
    return evaluate(collected, rules, fail_on, started_at, started)
