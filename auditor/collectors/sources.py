"""The sources of one scan: paths sorted into saved JSON and compose projects, plus engines.

Paths are recognised by content, not by name: a ``.json`` file (or any file that starts like
JSON) holding ``docker inspect`` output or an ``auditor snapshot`` is saved state; everything
else, directories included, is compose. Engines are read concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.collectors.base import Collected, Progress
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.raw import RawState, normalize_raw
from auditor.collectors.request import ComposeOptions, ScanRequest
from auditor.collectors.saved import SavedSource, looks_like_saved_json, read_json, starts_like_json
from auditor.model import inputs
from auditor.model.errors import AuditorError, InputError, TargetUnavailable
from auditor.model.records import SourceKind, Target

HostProgress = Callable[[EngineSpec, str, int, int], None]  # (engine, state, done, total)


@dataclass(frozen=True)
class EngineSource:
    """One live engine; a fault mid-scan keeps what was read, marked incomplete."""

    spec: EngineSpec

    def collect(self, progress: Progress | None = None) -> Sequence[Collected]:
        from auditor.collectors.daemon_facts import read_host_facts
        from auditor.collectors.engine import fetch_raw

        spec = self.spec
        alias = spec.name  # a fleet hosts file may name its engines
        placeholder = Target(SourceKind.ENGINE, alias or spec.address, spec.address)
        try:
            raw = _renamed(fetch_raw(spec, on_progress=progress, host_facts=read_host_facts), alias)
            return [Collected(raw.target, normalize_raw(raw), raw=raw)]
        except TargetUnavailable as exc:
            partial = exc.partial if isinstance(exc.partial, RawState) else None
            if partial is None:
                return [Collected(placeholder, None, exc)]
            partial = _renamed(partial, alias)
            return [Collected(partial.target, normalize_raw(partial), exc, raw=partial)]
        except AuditorError as exc:
            return [Collected(placeholder, None, exc)]


def _renamed(raw: RawState, alias: str | None) -> RawState:
    return replace(raw, target=replace(raw.target, name=alias)) if alias else raw


@dataclass(frozen=True)
class ComposeSource:
    """Compose files and directories (every project below a directory); ``stdin`` is the text
    of a compose file read from ``-``."""

    paths: tuple[Path, ...]
    options: ComposeOptions
    stdin: str | None = None

    def collect(self, progress: Progress | None = None) -> Sequence[Collected]:
        from auditor.collectors.compose import collect_compose

        return collect_compose(self.paths, self.options, self.stdin)


STDIN = "-"


def _stdin_source(options: ComposeOptions) -> FailedSource | SavedSource | ComposeSource:
    """``scan -``: saved JSON when stdin holds it, else one compose file (bounded either way)."""
    target = Target(SourceKind.SNAPSHOT, "stdin", "stdin")
    try:
        data = inputs.read_bytes(STDIN, "standard input", inputs.JSON_LIMIT, stdin=True)
        if data.lstrip()[:1] in (b"[", b"{"):
            doc = inputs.parse_json(data, "standard input", "stdin")
            if looks_like_saved_json(doc):
                return SavedSource((("stdin", doc),))
        if len(data) > inputs.COMPOSE_LIMIT:
            raise InputError(
                f"compose file is larger than the limit of {inputs.COMPOSE_LIMIT} bytes", "stdin"
            )
        text = inputs.decode(data, "compose file", "stdin")
    except InputError as exc:
        return FailedSource(Collected(target, None, exc))
    return ComposeSource((Path(STDIN),), options, text)


@dataclass(frozen=True)
class FailedSource:
    """A path that could not even be classified (missing, unreadable JSON)."""

    item: Collected

    def collect(self, progress: Progress | None = None) -> Sequence[Collected]:
        return [self.item]


def path_sources(
    paths: Sequence[str], options: ComposeOptions
) -> list[FailedSource | SavedSource | ComposeSource]:
    """Sort paths into saved JSON and compose sources by content."""
    saved: list[tuple[str, object]] = []
    compose_paths: list[Path] = []
    stdin_text: str | None = None
    failed: list[FailedSource] = []
    for text in paths:
        if text == STDIN:
            failed_or_found = _stdin_source(options)
            if isinstance(failed_or_found, FailedSource):
                failed.append(failed_or_found)
            elif isinstance(failed_or_found, SavedSource):
                saved.extend(failed_or_found.docs)
            else:
                stdin_text = failed_or_found.stdin
                compose_paths.append(Path(STDIN))
            continue
        path = Path(text)
        if path.is_dir():
            compose_paths.append(path)
            continue
        if not path.exists():
            target = Target(SourceKind.SNAPSHOT, text, text)
            failed.append(
                FailedSource(Collected(target, None, InputError("no such file or directory", text)))
            )
            continue
        if path.suffix.lower() == ".json" or starts_like_json(path):
            try:
                doc = read_json(path)
            except InputError as exc:
                failed.append(FailedSource(Collected(Target(SourceKind.SNAPSHOT, text, text), None, exc)))
                continue
            if looks_like_saved_json(doc):
                saved.append((text, doc))
                continue
            if not isinstance(doc, dict):  # a compose file is a mapping: reading this as YAML again is waste
                error = InputError(
                    "neither docker inspect output (a list of container and network documents) "
                    "nor a snapshot, and a compose file would be a mapping",
                    text,
                )
                failed.append(FailedSource(Collected(Target(SourceKind.SNAPSHOT, text, text), None, error)))
                continue
        compose_paths.append(path)
    sources: list[FailedSource | SavedSource | ComposeSource] = []
    if saved:
        sources.append(SavedSource(tuple(saved)))
    sources.extend(failed)
    if compose_paths or options.merge_files:
        sources.append(ComposeSource(tuple(compose_paths), options, stdin_text))
    return sources


def collect_paths(paths: Sequence[str], options: ComposeOptions) -> list[Collected]:
    """Every target named by ``paths`` (and ``options.merge_files``)."""
    return [item for source in path_sources(paths, options) for item in source.collect()]


def collect(request: ScanRequest, host_progress: HostProgress | None = None) -> list[Collected]:
    """Every target of the request: paths first (in order), then engines (concurrently)."""
    collected: list[Collected] = []
    if request.paths or request.compose.merge_files:
        collected.extend(collect_paths(request.paths, request.compose))
    engines = request.engines or ((EngineSpec(),) if request.default_engine else ())
    if engines:
        from concurrent.futures import ThreadPoolExecutor  # with logging behind it: only for engines

        from auditor.collectors.sdk import import_sdk

        import_sdk(spec.address for spec in engines)  # before the threads: the SDK's SSH part only if used
        with ThreadPoolExecutor(max_workers=min(8, len(engines))) as pool:
            for items in pool.map(lambda s: _collect_engine(s, host_progress), engines):
                collected.extend(items)
    return collected


def _collect_engine(spec: EngineSpec, host_progress: HostProgress | None) -> Sequence[Collected]:
    """Collect one engine, telling ``host_progress`` (fleet display) how far it got."""
    source = EngineSource(spec)
    if host_progress is None:
        return source.collect()
    items = source.collect(lambda done, total: host_progress(spec, "inspecting", done, total))
    host_progress(spec, "failed" if all(i.snapshot is None for i in items) else "done", 0, 0)
    return items
