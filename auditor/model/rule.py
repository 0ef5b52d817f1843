"""What a rule is: typed, immutable metadata plus a pure function of a snapshot.

A rule's check yields ``Observation`` objects; the engine turns them into ``Finding`` objects
by adding the rule's metadata, the resource identity, the location and a stable fingerprint.
Rules therefore never build report-facing records themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from auditor.model.records import Container, Network, Origin, Snapshot, Target
from auditor.model.severity import Severity


@dataclass(frozen=True)
class Reference:
    """A pointer to outside guidance: CIS Docker Benchmark item, CWE, documentation."""

    title: str
    url: str | None = None


@dataclass(frozen=True)
class RuleMeta:
    """Everything a reviewer needs to understand and fix what a rule reports."""

    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    references: tuple[Reference, ...] = ()
    tags: tuple[str, ...] = ("security",)
    needs: tuple[str, ...] = ()  # daemon facts the rule reads; unknown ones are reported
    # Other severities the rule emits, each with when: the catalog lists every severity a rule
    # can emit, and the engine refuses an observation at a severity not declared here.
    other_severities: tuple[tuple[Severity, str], ...] = ()

    @property
    def severities(self) -> frozenset[Severity]:
        """Every severity this rule may emit."""
        return frozenset({self.severity, *(s for s, _ in self.other_severities)})

    def severity_text(self) -> str:
        """``high; critical with network_mode: host`` - the catalog's severity line."""
        parts = [self.severity.label] + [f"{s.label} {when}" for s, when in self.other_severities]
        return "; ".join(parts)

    def severity_range(self) -> str:
        """``low-critical``: the span of severities, for one-line listings."""
        ordered = sorted(self.severities)
        return ordered[0].label if len(ordered) == 1 else f"{ordered[0].label}-{ordered[-1].label}"


Subject = Container | Network | Target


@dataclass(frozen=True)
class Observation:
    """One thing a rule noticed about one subject.

    ``key`` distinguishes several observations of one rule on one subject (e.g. one per port)
    and goes into the fingerprint, so it must not contain volatile values such as container ids.
    ``severity`` overrides the rule's default when the context makes it worse or milder.
    """

    subject: Subject
    message: str
    key: str = ""
    evidence: tuple[tuple[str, str], ...] = ()
    severity: Severity | None = None
    origin: Origin | None = None


Check = Callable[[Snapshot], Iterable[Observation]]


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    check: Check

    @property
    def id(self) -> str:
        return self.meta.id
