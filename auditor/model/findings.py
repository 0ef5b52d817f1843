"""Findings as reporters see them, and the scan result they belong to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from auditor.model.bench import BenchResult
from auditor.model.records import Origin, Resource, Snapshot, Target
from auditor.model.rule import Reference, RuleMeta
from auditor.model.severity import Severity
from auditor.model.topology import Topology


@dataclass(frozen=True)
class WaiverNote:
    """The waiver that matched a finding, as reporters show it (all text)."""

    rule: str
    match: str
    reason: str
    owner: str
    expires: str
    source: str
    state: str  # active | expired

    def items(self) -> tuple[tuple[str, str], ...]:
        """(key, value) pairs in the order every format prints them."""
        return (
            ("rule", self.rule),
            ("match", self.match),
            ("reason", self.reason),
            ("owner", self.owner),
            ("expires", self.expires),
            ("source", self.source),
            ("state", self.state),
        )


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    title: str
    message: str
    resource: Resource
    location: Origin | None
    evidence: tuple[tuple[str, str], ...]
    remediation: str
    fingerprint: str
    references: tuple[Reference, ...] = ()
    key: str = ""
    status: str = "open"  # open | waived; baselines add new | existing via ``baseline``
    baseline: str | None = None  # new | existing when a baseline was given
    waiver: WaiverNote | None = None


def fingerprint(rule_id: str, target_name: str, resource: Resource, key: str) -> str:
    """A digest that survives container re-creation: built from names, never from ids."""
    parts = (rule_id, target_name, resource.kind, resource.project or "", resource.name, key)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RuleError:
    """A rule that crashed on a target; the scan goes on but is incomplete."""

    rule_id: str
    target: str
    error: str


@dataclass(frozen=True)
class TargetResult:
    target: Target
    status: str  # complete | incomplete | failed
    error: str | None = None
    notes: tuple[str, ...] = ()
    not_checked: tuple[str, ...] = ()
    containers: int = 0
    networks: int = 0
    input_error: bool = False  # the target could not be read because the input was invalid


@dataclass(frozen=True)
class ExpiredWaiver:
    """A waiver past its expiry that matched findings: they are open again."""

    rule: str
    match: str
    reason: str
    owner: str
    expires: str
    source: str
    findings: int


@dataclass(frozen=True)
class BaselineSplit:
    new: int
    existing: int


@dataclass(frozen=True)
class PolicySummary:
    """What the gate's filters did to a result (waivers, baseline, severity overrides)."""

    fail_on_new: bool = False
    waived: int = 0
    expired_waivers: tuple[ExpiredWaiver, ...] = ()
    baseline: BaselineSplit | None = None
    severity_overrides: tuple[tuple[str, Severity], ...] = ()


@dataclass(frozen=True)
class SavedGate:
    """The gate as a scan decided it, kept when a JSON result is read back (not re-evaluated)."""

    fail_on: str
    verdict: str
    failing: int


@dataclass(frozen=True)
class ScanResult:
    """Everything a reporter needs; reporters are pure functions of this.

    ``rules`` holds the metadata of the rules that ran (reporters need it for help texts);
    ``root`` and ``scan_dirs`` are where relative paths in findings start; ``topology``,
    ``saved_gate`` and ``benchmark`` come along when a JSON result is read back or a benchmark
    result was given, so a saved result renders as it was written.
    """

    tool_version: str
    started_at: datetime
    duration_s: float
    fail_on: Severity | None
    targets: tuple[TargetResult, ...]
    findings: tuple[Finding, ...]
    rule_errors: tuple[RuleError, ...] = ()
    rules_run: tuple[str, ...] = ()
    snapshots: tuple[Snapshot, ...] = field(default=(), compare=False, repr=False)
    rules: tuple[RuleMeta, ...] = field(default=(), compare=False, repr=False)
    root: str | None = None
    scan_dirs: tuple[str, ...] = ()
    policy: PolicySummary | None = None
    saved_gate: SavedGate | None = None
    topology: Topology | None = field(default=None, compare=False, repr=False)
    benchmark: BenchResult | None = field(default=None, compare=False, repr=False)

    @property
    def complete(self) -> bool:
        return not self.rule_errors and all(t.status == "complete" for t in self.targets)

    @property
    def gated_findings(self) -> tuple[Finding, ...]:
        """Open findings at or above the threshold (waived ones do not count)."""
        if self.fail_on is None:
            return ()
        only_new = self.policy is not None and self.policy.fail_on_new
        return tuple(
            f
            for f in self.findings
            if f.status == "open"
            and f.severity >= self.fail_on
            and (not only_new or f.baseline != "existing")
        )

    @property
    def gate_passed(self) -> bool:
        """Nothing at or above the threshold (says nothing about completeness)."""
        return not self.gated_findings

    @property
    def verdict(self) -> str:
        """``passed``, ``failed`` or ``incomplete``: an incomplete scan never passes."""
        if not self.gate_passed:
            return "failed"
        return "passed" if self.complete else "incomplete"

    def gate(self) -> SavedGate:
        """The gate as the scan decided it: the saved one when a result was read back or
        narrowed for display (``shown_from``), else judged from this result's findings."""
        if self.saved_gate is not None:
            return self.saved_gate
        fail_on = self.fail_on.label if self.fail_on is not None else "none"
        return SavedGate(fail_on=fail_on, verdict=self.verdict, failing=len(self.gated_findings))

    def shown_from(self, severity: Severity | None) -> ScanResult:
        """Only the findings at or above ``severity`` (a display filter, ``--severity``); the
        gate keeps the verdict it reached on every finding."""
        if severity is None:
            return self
        kept = tuple(f for f in self.findings if f.severity >= severity)
        return replace(self, findings=kept, saved_gate=self.gate())

    def counts(self, include_waived: bool = False) -> dict[str, int]:
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            if include_waived or f.status == "open":
                counts[f.severity.label] += 1
        counts["total"] = sum(counts.values())
        return counts


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most severe first; within a severity, file by file in line order (compose), then by
    rule, host, resource and key: deterministic output that reads like the file."""
    return tuple(
        sorted(
            findings,
            key=lambda f: (
                -int(f.severity),
                f.location.uri if f.location and f.location.line is not None else "",
                f.location.line if f.location and f.location.line is not None else 0,
                f.rule_id,
                f.resource.host or "",
                f.resource.project or "",
                f.resource.name,
                f.key,
            ),
        )
    )
