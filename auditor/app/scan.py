"""One audit as the scan command runs it: collect, run the rules, apply the policy, cite the
benchmark. Pure orchestration of the floors below; rendering and exit codes stay with the CLI."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.audit.pipeline import scan
from auditor.collectors.request import ScanRequest
from auditor.collectors.sources import HostProgress
from auditor.model.bench import BenchResult
from auditor.model.findings import ScanResult
from auditor.model.rule import Rule
from auditor.model.severity import Severity
from auditor.policy.apply import Policy, apply_policy

if TYPE_CHECKING:
    from auditor.collectors.ahead import HostChild


@dataclass(frozen=True)
class AuditPlan:
    """What to run and how to judge it."""

    rules: tuple[Rule, ...]
    threshold: Severity | None
    policy: Policy
    benchmark: BenchResult | None = None  # a loaded `auditor bench` result, cited by findings


def audit(
    request: ScanRequest,
    plan: AuditPlan,
    progress: HostProgress | None = None,
    root: Path | None = None,
    children: Sequence[HostChild | None] | None = None,
) -> ScanResult:
    """The scan's result with rule metadata, paths, policy and benchmark filled in
    (``children``: the engines' host children, forked ahead: ``pipeline.scan``)."""
    result = scan(request, plan.rules, plan.threshold, host_progress=progress, children=children)
    here = root or repository_root(request.paths)
    result = replace(
        result, rules=tuple(r.meta for r in plan.rules), root=str(here), scan_dirs=_scan_dirs(request.paths)
    )
    result = apply_policy(result, plan.policy)
    if plan.benchmark is not None:
        from auditor.benchmarks.annotate import annotate  # the benchmarks import the Docker SDK

        result = replace(result, findings=annotate(result.findings, plan.benchmark), benchmark=plan.benchmark)
    return result


def _scan_dirs(paths: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(Path(p).resolve()) for p in paths if Path(p).is_dir())


def repository_root(paths: Sequence[str], cwd: Path | None = None) -> Path:
    """Where report paths start: the git work tree holding the first scanned path (else the
    current directory's), found by looking for ``.git`` (a directory, or a worktree's file)
    without running git; the current directory when there is none."""
    here = (cwd or Path.cwd()).resolve()
    starts = [Path(os.path.abspath(here / p)) for p in paths if p != "-"] + [here]
    for start in starts:
        current = start if start.is_dir() else start.parent
        for candidate in (current, *current.parents):
            if os.path.lexists(candidate / ".git"):
                return candidate
    return here
