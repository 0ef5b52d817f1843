"""Runs rules over snapshots and turns their observations into findings.

A rule that raises does not stop the scan: the error is recorded, the scan goes on, and the
result is marked incomplete so it can never be mistaken for a clean one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from auditor.model.findings import Finding, RuleError, fingerprint
from auditor.model.records import Container, Network, Origin, Resource, Snapshot, Target, resource_of
from auditor.model.rule import Observation, Rule


@dataclass(frozen=True)
class RuleRun:
    findings: tuple[Finding, ...]
    errors: tuple[RuleError, ...]


def location_of(obs: Observation, target: Target) -> Origin:
    """The most precise place an observation can point at."""
    if obs.origin is not None:
        return obs.origin
    origin = getattr(obs.subject, "origin", None)
    if origin is not None:
        return origin
    return Origin(kind=target.kind, uri=target.address)


def _stable(resource: Resource, subject: Container | Network | Target) -> Resource:
    """The resource as fingerprints see it: names that survive re-creation and rescheduling."""
    if (
        isinstance(subject, Container)
        and subject.kind == "container"
        and subject.stable_name != resource.name
    ):
        return replace(resource, name=subject.stable_name)
    return resource


def _evidence(obs: Observation) -> tuple[tuple[str, str], ...]:
    """The observation's evidence, plus the container name of a compose service that sets one
    (findings name services by their key; ``container_name`` is kept here)."""
    subject = obs.subject
    if not isinstance(subject, Container) or subject.kind != "service" or not subject.service:
        return obs.evidence
    if subject.name != subject.service and all(k != "container_name" for k, _ in obs.evidence):
        return (*obs.evidence, ("container_name", subject.name))
    return obs.evidence


def _resources(subject: Container | Network | Target, target: Target) -> tuple[Resource, Resource]:
    """The resource a finding names, and the one its fingerprint uses."""
    resource = resource_of(subject, target)
    return resource, _stable(resource, subject)


Resources = dict[int, tuple[object, Resource, Resource]]


def to_finding(rule: Rule, obs: Observation, target: Target, resources: Resources | None = None) -> Finding:
    """``resources`` caches the resources per subject within one run (a container with 65,535
    ports is one subject of 65,535 observations); it holds each subject, so no id is reused."""
    if resources is None:
        resource, stable = _resources(obs.subject, target)
    else:
        key = id(obs.subject)
        if key not in resources:
            resources[key] = (obs.subject, *_resources(obs.subject, target))
        _, resource, stable = resources[key]
    severity = obs.severity if obs.severity is not None else rule.meta.severity
    return Finding(
        rule_id=rule.id,
        severity=severity,
        title=rule.meta.title,
        message=obs.message,
        resource=resource,
        location=location_of(obs, target),
        evidence=_evidence(obs),
        remediation=rule.meta.remediation,
        fingerprint=fingerprint(rule.id, target.name, stable, obs.key),
        references=rule.meta.references,
        key=obs.key,
    )


def run_rules(snapshot: Snapshot, rules: Sequence[Rule]) -> RuleRun:
    """Apply every rule to one snapshot; collect findings and crashes separately."""
    findings: list[Finding] = []
    errors: list[RuleError] = []
    resources: Resources = {}
    for rule in rules:
        try:
            observations: Iterable[Observation] = list(rule.check(snapshot))
        except Exception as exc:  # noqa: BLE001 - a broken rule must not end the scan
            errors.append(RuleError(rule.id, snapshot.target.name, f"{type(exc).__name__}: {exc}"))
            continue
        if not observations:  # most rules on most targets: nothing to check or convert
            continue
        undeclared = sorted(
            {
                o.severity.label
                for o in observations
                if o.severity is not None and o.severity not in rule.meta.severities
            }
        )
        if undeclared:  # the catalog would tell users something else than the findings do
            detail = f"emitted severity {', '.join(undeclared)} that its metadata does not declare"
            errors.append(RuleError(rule.id, snapshot.target.name, detail))
            continue
        findings.extend(to_finding(rule, obs, snapshot.target, resources) for obs in observations)
    return RuleRun(tuple(dedupe(findings)), tuple(errors))


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Drop repeats (same fingerprint and message), keeping the first, in a stable order.

    Two different observations that a rule keyed alike are both kept: the later one gets a
    fingerprint that also covers its message, so nothing is hidden and fingerprints stay unique.
    """
    seen: dict[str, str] = {}
    out: list[Finding] = []
    for f in findings:
        if f.fingerprint in seen:
            if seen[f.fingerprint] == f.message:
                continue
            digest = hashlib.sha256(f"{f.fingerprint}\x1f{f.message}".encode()).hexdigest()[:32]
            f = replace(f, fingerprint=digest)
            if f.fingerprint in seen:
                continue
        seen[f.fingerprint] = f.message
        out.append(f)
    return out
