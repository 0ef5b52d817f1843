"""Findings as reporters see them, and the scan result they belong to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from auditor.model.records import Container, Network, Origin, Target
from auditor.model.rule import Reference
from auditor.model.severity import Severity


@dataclass(frozen=True)
class Resource:
    """What a finding is about, named the way people name it (no leading slash)."""

    kind: str  # container | service | network | host
    name: str
    id: str | None = None
    project: str | None = None
    host: str | None = None


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
    waiver: dict[str, str] | None = None


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
class ScanResult:
    """Everything a reporter needs; reporters are pure functions of this."""

    tool_version: str
    started_at: datetime
    duration_s: float
    fail_on: Severity | None
    targets: tuple[TargetResult, ...]
    findings: tuple[Finding, ...]
    rule_errors: tuple[RuleError, ...] = ()
    rules_run: tuple[str, ...] = ()
    snapshots: tuple = field(default=(), compare=False, repr=False)
    extras: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def complete(self) -> bool:
        return not self.rule_errors and all(t.status == "complete" for t in self.targets)

    @property
    def gated_findings(self) -> tuple[Finding, ...]:
        """Open findings at or above the threshold (waived ones do not count)."""
        if self.fail_on is None:
            return ()
        only_new = bool(self.extras.get("fail_on_new"))
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

    def counts(self, include_waived: bool = False) -> dict[str, int]:
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            if include_waived or f.status == "open":
                counts[f.severity.label] += 1
        counts["total"] = sum(counts.values())
        return counts


def resource_of(subject: Container | Network | Target, target: Target) -> Resource:
    """Name the subject of an observation the way reports name it."""
    if isinstance(subject, Container):
        return Resource(
            kind=subject.kind,
            name=subject.service if subject.kind == "service" and subject.service else subject.name,
            id=subject.id,
            project=subject.project,
            host=target.name,
        )
    if isinstance(subject, Network):
        return Resource(
            kind="network", name=subject.name, id=subject.id, project=subject.project, host=target.name
        )
    return Resource(kind="host", name=subject.name, host=target.name)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most severe first, then by rule, host, resource and key: deterministic output."""
    return tuple(
        sorted(
            findings,
            key=lambda f: (
                -int(f.severity),
                f.rule_id,
                f.resource.host or "",
                f.resource.project or "",
                f.resource.name,
                f.key,
            ),
        )
    )
