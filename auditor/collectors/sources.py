"""The sources of one scan: paths sorted into saved JSON and compose projects, plus engines.

Paths are recognised by content, not by name: a ``.json`` file (or any file that starts like
JSON) holding ``docker inspect`` output or an ``auditor snapshot`` is saved state; everything
else, directories included, is compose. Engines are read concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.collectors.base import Collected, Progress
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.raw import RawState, normalize_raw
from auditor.collectors.request import ComposeOptions, ScanRequest
from auditor.collectors.saved import SavedSource, looks_like_saved_json, read_json, starts_like_json
from auditor.model import inputs
from auditor.model.errors import AuditorError, InputError, TargetUnavailable
from auditor.model.records import SourceKind, Target

if TYPE_CHECKING:  # a compose scan never loads the engine's child (nor its threads)
    from auditor.collectors.ahead import HostChild

HostProgress = Callable[[EngineSpec, str, int, int], None]  # (engine, state, done, total)


@dataclass(frozen=True)
class EngineSource:
    """One live engine; a fault mid-scan keeps what was read, marked incomplete."""

    spec: EngineSpec
    child: HostChild | None = None  # reads the host's facts (and the exposure) beside the inspects

    def collect(self, progress: Progress | None = None) -> Sequence[Collected]:
        from auditor.collectors.daemon_facts import read_host_facts
        from auditor.collectors.engine import fetch_raw

        spec = self.spec
        alias = spec.name  # a fleet hosts file may name its engines
        placeholder = Target(SourceKind.ENGINE, alias or spec.address, spec.address)
        try:
            raw = fetch_raw(spec, on_progress=progress, host_facts=read_host_facts, child=self.child)
            raw = _renamed(raw, alias)
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


def collect(
    request: ScanRequest,
    host_progress: HostProgress | None = None,
    exposure_ahead: bool = False,
    children: Sequence[HostChild | None] | None = None,
) -> list[Collected]:
    """Every target of the request: paths first (in order), then engines (concurrently);
    ``exposure_ahead``: the caller analyses the exposure of every engine (``fetch_raw``);
    ``children``: those ``forked_ahead`` started for this request (else they are forked here)."""
    collected: list[Collected] = []
    engines = request_engines(request)
    if children is not None and len(children) != len(engines):
        raise ValueError(f"{len(children)} host children for {len(engines)} engines")
    if request.paths or request.compose.merge_files:
        collected.extend(collect_paths(request.paths, request.compose))
    if engines:
        from concurrent.futures import ThreadPoolExecutor  # with logging behind it: only for engines

        from auditor.collectors.sdk import import_sdk

        children = list(children) if children is not None else _host_children(engines, exposure_ahead)
        try:
            # before the threads: the SDK's SSH part only if used
            import_sdk(spec.address for spec in engines)
            with ThreadPoolExecutor(max_workers=min(ENGINE_WORKERS, len(engines))) as pool:
                pairs = zip(engines, children, strict=True)
                for items in pool.map(lambda pair: _collect_engine(pair[0], pair[1], host_progress), pairs):
                    collected.extend(items)
        finally:  # a child no snapshot took (its engine failed, or Ctrl-C) goes now
            taken = {id(i.raw.ahead) for i in collected if i.raw is not None and i.raw.ahead is not None}
            for child in children:
                if child is not None and id(child) not in taken:
                    child.close()
    return collected


ENGINE_WORKERS = 8


def request_engines(request: ScanRequest) -> tuple[EngineSpec, ...]:
    """The engines a request reads: those it names, else the local one when it names no path."""
    return request.engines or ((EngineSpec(),) if request.default_engine else ())


@contextmanager
def forked_ahead(request: ScanRequest, exposure_ahead: bool) -> Iterator[list[HostChild | None]]:
    """The host children of the request's engines (``_host_children``), forked as the block
    starts: a command forks them before importing the rest of the scan, so their reading
    runs beside those imports. Pass them to ``collect``; whichever still runs when the block
    ends is stopped (an error before the collection, Ctrl-C)."""
    engines = request_engines(request)
    children = _host_children(engines, exposure_ahead) if engines else []
    try:
        yield children
    finally:
        for child in children:
            if child is not None:
                child.close()


def _host_children(engines: Sequence[EngineSpec], exposure_ahead: bool) -> list[HostChild | None]:
    """One child per engine whose host facts are read, forked before anything else of the scan
    (``collectors.ahead``): up to as many as are collected at once, the others read theirs
    in a thread."""
    from auditor.collectors.ahead import HostChild
    from auditor.collectors.daemon_facts import read_host_facts

    children: list[HostChild | None] = []
    forked = 0
    for spec in engines:
        child = None
        if spec.read_host_config and forked < ENGINE_WORKERS:
            target = Target(SourceKind.ENGINE, spec.name or spec.address, spec.address)
            child = HostChild.start(read_host_facts, spec.address, target, exposure_ahead)
            forked += child is not None
        children.append(child)
    return children


def _collect_engine(
    spec: EngineSpec, child: HostChild | None, host_progress: HostProgress | None
) -> Sequence[Collected]:
    """Collect one engine, telling ``host_progress`` (fleet display) how far it got."""
    source = EngineSource(spec, child)
    if host_progress is None:
        return source.collect()
    items = source.collect(lambda done, total: host_progress(spec, "inspecting", done, total))
    host_progress(spec, "failed" if all(i.snapshot is None for i in items) else "done", 0, 0)
    return items
