"""The gate's filters as one pure function: rule selection, severity overrides, waivers, inline
ignores, baseline.

A finding a waivers-file entry does not waive (none matched, or it expired) is waived by an
inline ignore that covers it (``auditor.model.suppress``): status ``waived``, the note's state
``inline``, its source the file and line (or label) it was written at.

``apply_policy(result, policy)`` returns a new ``ScanResult``; nothing is read from disk or
the clock here (``Policy.today`` is injected), so every decision is testable and repeatable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from auditor.model.errors import InputError
from auditor.model.findings import (
    BaselineSplit,
    ExpiredWaiver,
    Finding,
    PolicySummary,
    ScanResult,
    WaiverNote,
    sort_findings,
)
from auditor.model.records import Container, Snapshot, SourceKind, resource_of
from auditor.model.rule import Rule
from auditor.model.severity import Severity
from auditor.model.suppress import IGNORE_LABEL, Suppression, parse_ignore
from auditor.policy.waivers import OTHER_KEYS, PORT_KEYS, Subject, Waiver, matches, subject_of


@dataclass(frozen=True)
class Policy:
    """What the team decided: which rules, which severities, which accepted risks, which past."""

    today: dt.date
    enabled: frozenset[str] | None = None  # None: every rule
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    baseline: frozenset[str] | None = None  # fingerprints of a previous result
    fail_on_new: bool = False
    inline: bool = True  # honour inline ignores (comments, x-auditor, io.auditor.ignore labels)
    known_rules: frozenset[str] | None = None  # ids an inline ignore may name (None: not checked)

    def selects(self, rule_id: str) -> bool:
        rid = rule_id.upper()
        return (self.enabled is None or rid in self.enabled) and rid not in self.disabled


def check_selection(enabled: Iterable[str], disabled: Iterable[str], known: Iterable[str]) -> None:
    """Unknown ids and a rule both enabled and disabled are usage errors (exit 2)."""
    known_ids = {k.upper() for k in known}
    for option, ids in (("--enable-rule", enabled), ("--disable-rule", disabled)):
        for rid in ids:
            if rid.upper() not in known_ids:
                raise InputError(f"{option}: unknown rule id {rid!r} (see `auditor rules`)")
    both = {e.upper() for e in enabled} & {d.upper() for d in disabled}
    if both:
        raise InputError(f"rule {sorted(both)[0]} is both enabled and disabled")


def select_rules(rules: Iterable[Rule], policy: Policy) -> tuple[Rule, ...]:
    """The rules to run; disabled rules are not run at all (a crash there cannot fail a scan)."""
    return tuple(r for r in rules if policy.selects(r.id))


def _containers(snapshots: Iterable[Snapshot]) -> dict[tuple[str, str, str], Container]:
    """Index containers and services by (host, kind, resource name) as findings name them."""
    out: dict[tuple[str, str, str], Container] = {}
    for snap in snapshots:
        for c in snap.containers:
            out.setdefault((snap.target.name, c.kind, resource_of(c, snap.target).name), c)
    return out


class _Waivers:
    """The waivers of each rule, and which of them a subject matches apart from its ports,
    remembered: a container with 65,535 port findings is matched once, then only by port."""

    def __init__(self, waivers: tuple[Waiver, ...]):
        self.by_rule: dict[str, list[Waiver]] = {}
        for w in waivers:
            self.by_rule.setdefault(w.rule, []).append(w)
        self._candidates: dict[tuple[str, Subject], list[Waiver]] = {}

    def matching(self, rule_id: str, subject: Subject) -> list[Waiver]:
        rule = rule_id.upper()
        waivers = self.by_rule.get(rule)
        if not waivers:
            return []
        key = (rule, replace(subject, ports=()))
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = [w for w in waivers if matches(w, rule, subject, OTHER_KEYS)]
            self._candidates[key] = candidates
        return [w for w in candidates if matches(w, rule, subject, PORT_KEYS)]


def _waiver_for(finding: Finding, waivers: _Waivers, index, today: dt.date) -> Waiver | None:
    """The active waiver that matches, else the latest expired one (to report it)."""
    if not waivers.by_rule.get(finding.rule_id.upper()):
        return None
    r = finding.resource
    container = index.get((r.host or "", r.kind, r.name))
    networks = container.network_names if container else ()
    service = container.service if container else None
    subject = subject_of(finding, networks, service)
    found = waivers.matching(finding.rule_id, subject)
    active = [w for w in found if not w.expired(today)]
    if active:
        return active[0]
    return max(found, key=lambda w: w.expires) if found else None


def _note(waiver: Waiver, expired: bool) -> WaiverNote:
    return WaiverNote(
        rule=waiver.rule,
        match=waiver.match_text,
        reason=waiver.reason,
        owner=waiver.owner,
        expires=waiver.expires.isoformat(),
        source=waiver.source,
        state="expired" if expired else "active",
    )


def _label_ignore(container: Container, policy: Policy) -> Suppression | None:
    """The ``io.auditor.ignore`` label of a container or compose service, parsed."""
    value = container.label(IGNORE_LABEL)
    if value is None:
        return None
    where = f"label {IGNORE_LABEL} on {container.kind} {container.name}"
    if container.origin is not None and container.origin.line:
        where = f"{container.origin.uri}:{container.origin.line} ({where})"
    try:
        rules, reason = parse_ignore(value)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    service = container.kind == "service"
    found = Suppression(
        rules,
        reason,
        where,
        service=container.name if service else None,
        container=None if service else container.name,
    )
    _check_ids(found, policy)
    return found


def _check_ids(found: Suppression, policy: Policy) -> None:
    unknown = [r for r in found.rules if policy.known_rules is not None and r not in policy.known_rules]
    if unknown:
        raise InputError(
            f"{found.source}: unknown rule id {unknown[0]!r} in inline ignore (see `auditor rules`)"
        )


def _covers(found: Suppression, finding: Finding) -> bool:
    if finding.rule_id.upper() not in found.rules:
        return False
    if found.line is not None:
        loc = finding.location
        return (
            loc is not None
            and loc.kind is SourceKind.COMPOSE
            and (loc.uri, loc.line) == (found.uri, found.line)
        )
    if found.service is not None:
        return finding.resource.kind == "service" and finding.resource.name == found.service
    return True


def _inline_for(
    finding: Finding,
    written: Mapping[str, tuple[Suppression, ...]],
    labelled: Mapping[tuple[str, str, str], Suppression],
) -> Suppression | None:
    """The inline ignore that covers a finding: in the source of its target, or on its container."""
    r = finding.resource
    for found in written.get(r.host or "", ()):
        if _covers(found, finding):
            return found
    label = labelled.get((r.host or "", r.kind, r.name))
    return label if label is not None and finding.rule_id.upper() in label.rules else None


def _labels(
    index: Mapping[tuple[str, str, str], Container],
    policy: Policy,
) -> tuple[dict[tuple[str, str, str], Suppression], dict[str, list[str]]]:
    """Every container's ``io.auditor.ignore`` label, parsed once. A broken label of a compose
    service is an input error (the repository wrote it, like a comment); on a live container
    it is a warning of its target and waives nothing: whoever started that container must not
    be able to stop a scan of the whole host."""
    found: dict[tuple[str, str, str], Suppression] = {}
    warnings: dict[str, list[str]] = {}
    for key, container in index.items():
        try:
            label = _label_ignore(container, policy)
        except InputError as exc:
            if container.kind == "service":
                raise
            warnings.setdefault(key[0], []).append(f"{exc}; the label is ignored, its findings stay open")
            continue
        if label is not None:
            found[key] = label
    return found, warnings


def _with_warnings(
    snapshots: tuple[Snapshot, ...], warnings: Mapping[str, list[str]]
) -> tuple[Snapshot, ...]:
    if not warnings:
        return snapshots
    return tuple(
        replace(s, warnings=(*s.warnings, *warnings[s.target.name])) if s.target.name in warnings else s
        for s in snapshots
    )


def _inline_note(found: Suppression) -> WaiverNote:
    return WaiverNote(
        rule=",".join(found.rules),
        match=found.scope,
        reason=found.reason,
        owner="",
        expires="",
        source=found.source,
        state="inline",
    )


def _written(snapshots: Iterable[Snapshot], policy: Policy) -> dict[str, tuple[Suppression, ...]]:
    """Inline ignores of each target's source (comments, x-auditor), ids checked."""
    out: dict[str, tuple[Suppression, ...]] = {}
    for snap in snapshots:
        for found in snap.suppressions:
            _check_ids(found, policy)
        if snap.suppressions:
            out[snap.target.name] = out.get(snap.target.name, ()) + snap.suppressions
    return out


def _apply_one(
    finding: Finding,
    policy: Policy,
    index,
    waivers: _Waivers,
    written,
    labelled,
) -> tuple[Finding, Waiver | None]:
    severity = policy.severity.get(finding.rule_id.upper(), finding.severity)
    waiver = _waiver_for(finding, waivers, index, policy.today)
    status, note = "open", None
    if waiver is not None:
        expired = waiver.expired(policy.today)
        note = _note(waiver, expired)
        status = "open" if expired else "waived"
    if status == "open" and policy.inline:
        inline = _inline_for(finding, written, labelled)
        if inline is not None:
            status, note = "waived", _inline_note(inline)
    baseline = None
    if policy.baseline is not None:
        baseline = "existing" if finding.fingerprint in policy.baseline else "new"
    if (finding.severity, finding.status, finding.waiver, finding.baseline) == (
        severity,
        status,
        note,
        baseline,
    ):
        return finding, waiver  # most findings: nothing to change, no copy
    return replace(finding, severity=severity, status=status, waiver=note, baseline=baseline), waiver


def apply_policy(result: ScanResult, policy: Policy) -> ScanResult:
    """A new result with the policy applied; ``result.policy`` records what the policy did."""
    index = _containers(result.snapshots)
    waivers = _Waivers(policy.waivers)
    written = _written(result.snapshots, policy) if policy.inline else {}
    labelled, label_warnings = _labels(index, policy) if policy.inline else ({}, {})
    findings: list[Finding] = []
    expired: dict[str, tuple[Waiver, int]] = {}
    for f in result.findings:
        if not policy.selects(f.rule_id):
            continue
        updated, waiver = _apply_one(f, policy, index, waivers, written, labelled)
        findings.append(updated)
        if waiver is not None and waiver.expired(policy.today):
            seen = expired.get(waiver.source, (waiver, 0))[1]
            expired[waiver.source] = (waiver, seen + 1)
    baseline = None
    if policy.baseline is not None:
        baseline = BaselineSplit(
            new=sum(1 for f in findings if f.baseline == "new"),
            existing=sum(1 for f in findings if f.baseline == "existing"),
        )
    summary = PolicySummary(
        fail_on_new=policy.fail_on_new,
        waived=sum(1 for f in findings if f.status == "waived"),
        expired_waivers=tuple(
            ExpiredWaiver(
                rule=w.rule,
                match=w.match_text,
                reason=w.reason,
                owner=w.owner,
                expires=w.expires.isoformat(),
                source=w.source,
                findings=count,
            )
            for w, count in sorted(expired.values(), key=lambda e: e[0].source)
        ),
        baseline=baseline,
        severity_overrides=tuple(sorted(policy.severity.items())),
    )
    return replace(
        result,
        findings=sort_findings(findings),
        snapshots=_with_warnings(result.snapshots, label_warnings),
        rules_run=tuple(r for r in result.rules_run if policy.selects(r)),
        rule_errors=tuple(e for e in result.rule_errors if policy.selects(e.rule_id)),
        policy=summary,
    )
