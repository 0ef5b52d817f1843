"""collect -> Snapshot -> rules -> findings: the scan as plain function calls.

Each target is collected on its own; a target that fails becomes a failed ``TargetResult``
(the others are still scanned), so one bad file or unreachable host never hides the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from auditor import __version__
from auditor.collectors.engine import EngineSpec, fetch_raw
from auditor.collectors.host_facts import read_local_host_facts
from auditor.collectors.saved import (
    combine_inspect_files,
    load_snapshot_file,
    looks_like_saved_json,
    read_json,
)
from auditor.engine import run_rules, sort_findings
from auditor.errors import AuditorError, InputError, TargetUnavailable
from auditor.findings import RuleError, ScanResult, TargetResult
from auditor.model import Snapshot, SourceKind, Target
from auditor.raw import RawState, is_snapshot_document, normalize_raw
from auditor.rule import Rule
from auditor.severity import Severity


@dataclass(frozen=True)
class ComposeOptions:
    """How compose files are read (see ``auditor.collectors.compose``)."""

    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    merge_files: tuple[str, ...] = ()  # --compose-file: one project from these, merged in order
    variables: tuple[tuple[str, str], ...] = ()  # --set VAR=VALUE, over the environment and .env
    all_profiles: bool = False  # --all-profiles: every service, whatever COMPOSE_PROFILES says


@dataclass(frozen=True)
class ScanRequest:
    paths: tuple[str, ...] = ()
    engines: tuple[EngineSpec, ...] = ()
    compose: ComposeOptions = field(default_factory=ComposeOptions)


@dataclass(frozen=True)
class Collected:
    """The outcome of collecting one target: a snapshot, or why there is none."""

    target: Target
    snapshot: Snapshot | None
    error: AuditorError | None = None
    raw: RawState | None = None


def collect_engine(spec: EngineSpec, on_progress: Callable[[int, int], None] | None = None) -> Collected:
    alias = spec.name  # a fleet hosts file may name its engines
    placeholder = Target(SourceKind.ENGINE, alias or spec.address, spec.address)
    try:
        raw = fetch_raw(spec, on_progress=on_progress, host_facts=read_local_host_facts)
        if alias:
            raw = replace(raw, target=replace(raw.target, name=alias))
        return Collected(raw.target, normalize_raw(raw), raw=raw)
    except TargetUnavailable as exc:
        partial = exc.partial if isinstance(exc.partial, RawState) else None
        if partial is None:
            return Collected(placeholder, None, exc)
        if alias:
            partial = replace(partial, target=replace(partial.target, name=alias))
        return Collected(partial.target, normalize_raw(partial), exc, raw=partial)
    except AuditorError as exc:
        return Collected(placeholder, None, exc)


def _saved_targets(docs: list[tuple[str, object]]) -> list[Collected]:
    out: list[Collected] = []
    plain: list[tuple[str, object]] = []
    for path, doc in docs:
        if is_snapshot_document(doc):
            try:
                raw = load_snapshot_file(path, doc)
                out.append(Collected(raw.target, normalize_raw(raw), raw=raw))
            except AuditorError as exc:
                out.append(Collected(Target(SourceKind.SNAPSHOT, path, path), None, exc))
        else:
            plain.append((path, doc))
    if plain:
        try:
            raw = combine_inspect_files(plain)
            out.append(Collected(raw.target, normalize_raw(raw), raw=raw))
        except AuditorError as exc:
            address = ", ".join(p for p, _ in plain)
            out.append(Collected(Target(SourceKind.SNAPSHOT, address, address), None, exc))
    return out


def collect_paths(paths: Sequence[str], options: ComposeOptions) -> list[Collected]:
    """Sort paths into saved JSON and compose sources by content, then collect each."""
    saved: list[tuple[str, object]] = []
    compose_paths: list[Path] = []
    failed: list[Collected] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            compose_paths.append(path)
            continue
        if not path.exists():
            failed.append(
                Collected(
                    Target(SourceKind.SNAPSHOT, text, text),
                    None,
                    InputError("no such file or directory", text),
                )
            )
            continue
        if path.suffix.lower() == ".json" or _starts_like_json(path):
            try:
                doc = read_json(path)
            except InputError as exc:
                failed.append(Collected(Target(SourceKind.SNAPSHOT, text, text), None, exc))
                continue
            if looks_like_saved_json(doc):
                saved.append((text, doc))
                continue
        compose_paths.append(path)
    out = _saved_targets(saved) + failed
    if compose_paths or options.merge_files:
        from auditor.collectors.compose import collect_compose

        out.extend(collect_compose(compose_paths, options))
    return out


def _starts_like_json(path: Path) -> bool:
    if not path.is_file():  # opening a FIFO would wait forever; devices never end
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return False
    return head[:1] in (b"[", b"{")


HostProgress = Callable[[EngineSpec, str, int, int], None]  # (engine, state, done, total)


def collect(request: ScanRequest, on_engine_progress=None, host_progress: HostProgress | None = None) -> list[Collected]:
    collected = (
        collect_paths(request.paths, request.compose) if request.paths or request.compose.merge_files else []
    )
    engines = request.engines
    if not engines and not request.paths and not request.compose.merge_files:
        engines = (EngineSpec(),)
    if engines:
        workers = min(8, len(engines))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            collected.extend(pool.map(lambda s: _collect_reporting(s, on_engine_progress, host_progress), engines))
    return collected


def _collect_reporting(spec: EngineSpec, on_progress, host_progress: HostProgress | None) -> Collected:
    """Collect one engine, telling ``host_progress`` (fleet display) how far it got."""
    if host_progress is None:
        return collect_engine(spec, on_progress)
    item = collect_engine(spec, lambda done, total: host_progress(spec, "inspecting", done, total))
    host_progress(spec, "failed" if item.snapshot is None else "done", 0, 0)
    return item


PARTIAL_VIEW = "partial view: "


def target_result(item: Collected) -> TargetResult:
    if item.snapshot is None:
        error = item.error or AuditorError("unknown failure")
        return TargetResult(
            target=item.target,
            status="failed",
            error=str(error),
            input_error=isinstance(error, InputError),
        )
    snap = item.snapshot
    error = str(item.error) if item.error is not None else None
    if snap.incomplete:
        partial = PARTIAL_VIEW + "; ".join(snap.incomplete)
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


def evaluate(
    collected: Sequence[Collected],
    rules: Sequence[Rule],
    fail_on: Severity | None,
    started_at: datetime,
    started: float,
) -> ScanResult:
    """Run the rules over every collected snapshot and assemble the result."""
    findings = []
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


def scan(request: ScanRequest, rules: Sequence[Rule], fail_on: Severity | None,
         host_progress: HostProgress | None = None) -> ScanResult:
    started_at = datetime.now(UTC)
    started = time.monotonic()
    return evaluate(collect(request, host_progress=host_progress), rules, fail_on, started_at, started)
