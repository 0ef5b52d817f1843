"""Documented exit codes, in one place (the README lists the same table)."""

from __future__ import annotations

from auditor.model.findings import ScanResult

OK = 0  # scan complete, nothing at or above the threshold
GATE_FAILED = 1  # findings at or above --fail-on
INPUT_ERROR = 2  # usage or input error (bad option, malformed file, bad port spec)
INCOMPLETE = 3  # scan incomplete: target unreachable, permission denied, a rule crashed


def for_result(result: ScanResult) -> int:
    """Input errors win, then incompleteness, then the gate: a partial scan is never 'clean'."""
    if any(t.input_error for t in result.targets):
        return INPUT_ERROR
    if not result.complete:
        return INCOMPLETE
    if not result.gate_passed:
        return GATE_FAILED
    return OK
