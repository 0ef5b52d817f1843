"""Compose files as a source: one ``Snapshot`` per compose project, every item with file and line.

Entry point ``collect_compose`` takes the paths ``auditor scan`` was given (files and
directories) plus the compose options, and returns one ``Collected`` per project. A project
that cannot be read becomes a failed ``Collected`` carrying an ``InputError`` (``file:line:
message``) while the other projects are still scanned.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from auditor.collectors.base import Collected
from auditor.collectors.request import ComposeOptions
from auditor.collectors.saved import SavedSource, saved_json_of
from auditor.model.errors import InputError
from auditor.model.records import SourceKind, Target

from .discover import Discovery, discover
from .project import STDIN_PATH, ProjectSpec, Uris, load_project
from .tree import Parsed

__all__ = ["collect_compose", "load_project", "ProjectSpec"]


def _failed(uri: str, error: InputError) -> Collected:
    return Collected(Target(SourceKind.COMPOSE, uri, uri), None, error)


def _saved_json(path: Path, uri: str) -> list[Collected] | None:
    """A file found by name that really holds saved ``docker inspect`` JSON (invalid JSON is
    left to the YAML reader, which reports it with a line)."""
    doc = saved_json_of(path)
    return None if doc is None else list(SavedSource(((str(path), doc),)).collect())


def collect_project(
    spec: ProjectSpec,
    options: ComposeOptions,
    parsed: Parsed | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Collected]:
    """Load one project; any failure becomes a failed target naming the main file."""
    uri = Uris(spec.root)(spec.files[0])
    if len(spec.files) == 1 and spec.stdin is None:
        saved = _saved_json(spec.files[0], uri)
        if saved is not None:
            return saved
    try:
        snapshot = load_project(
            spec,
            options.env_files,
            options.profiles,
            variables=dict(options.variables),
            all_profiles=options.all_profiles,
            parsed=parsed,
            environ=environ,
        )
    except InputError as exc:
        return [_failed(uri, exc)]
    except (RecursionError, MemoryError):
        return [_failed(uri, InputError("compose file is nested too deeply or too large", uri))]
    return [Collected(snapshot.target, snapshot)]


def collect_compose(
    paths: Sequence[Path], options: ComposeOptions, stdin: str | None = None
) -> list[Collected]:
    """Every compose project named by ``paths`` and ``options.merge_files``; the path ``-`` is
    the compose file ``stdin`` holds (its project directory is the current one, as with
    ``docker compose -f -``).

    A file named on its own that a named directory's project already reads is not audited a
    second time (``auditor scan . compose.prod.yaml``, as the pre-commit hook runs it, audits
    every named file exactly once: within its project, else on its own)."""
    out: list[Collected] = []
    cwd = Path(os.getcwd())
    environ = dict(os.environ)  # read once: copying os.environ per project decodes every variable again
    if options.merge_files:
        out.extend(collect_project(ProjectSpec(tuple(Path(f) for f in options.merge_files), cwd), options))
    found: dict[Path, Discovery | InputError] = {}
    parsed: dict[Path, Parsed] = {}  # what each directory's discovery read, for its loaders
    for path in map(Path, paths):
        if path.is_dir() and path not in found:
            parsed[path] = Parsed(Uris(path))
            try:
                found[path] = discover(path, parsed[path])
            except InputError as exc:
                found[path] = exc
    covered = {
        os.path.realpath(f)
        for d in found.values()
        if isinstance(d, Discovery)
        for project in d.projects
        for f in project.files
    }  # realpath: a symlink loop is the reader's to report
    for path in map(Path, paths):
        if stdin is not None and path == STDIN_PATH:
            out.extend(collect_project(ProjectSpec((path,), cwd, stdin=stdin), options))
            continue
        if not path.is_dir():
            if os.path.realpath(path) not in covered:
                out.extend(collect_project(ProjectSpec((path,), cwd), options))
            continue
        discovery = found.pop(path, None)
        if discovery is None:  # the same directory named twice
            continue
        if isinstance(discovery, InputError):
            out.append(_failed(str(path), discovery))
            continue
        if not discovery.projects:
            message = "no compose files found below this directory (looked for compose*.y(a)ml and docker-compose*.y(a)ml)"
            out.append(_failed(str(path), InputError(message, str(path))))
        for project in discovery.projects:
            out.extend(
                collect_project(
                    ProjectSpec(project.files, path, project.notes), options, parsed[path], environ
                )
            )
    return out
