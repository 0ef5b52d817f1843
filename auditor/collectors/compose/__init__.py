"""Compose files as a source: one ``Snapshot`` per compose project, every item with file and line.

Entry point ``collect_compose`` takes the paths ``auditor scan`` was given (files and
directories) plus the compose options, and returns one ``Collected`` per project. A project
that cannot be read becomes a failed ``Collected`` carrying an ``InputError`` (``file:line:
message``) while the other projects are still scanned.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import InputError
from auditor.model import SourceKind, Target

from .discover import discover
from .project import ProjectSpec, Uris, load_project

if TYPE_CHECKING:
    from auditor.pipeline import Collected, ComposeOptions

__all__ = ["collect_compose", "load_project", "ProjectSpec"]


def _failed(uri: str, error: InputError) -> Collected:
    from auditor.pipeline import Collected

    return Collected(Target(SourceKind.COMPOSE, uri, uri), None, error)


def _saved_json(path: Path, uri: str) -> list[Collected] | None:
    """A file found by name that really holds saved ``docker inspect`` JSON."""
    from auditor.collectors.saved import looks_like_saved_json, read_json
    from auditor.pipeline import _saved_targets, _starts_like_json

    if not _starts_like_json(path):
        return None
    try:
        doc = read_json(path)
    except InputError:
        return None  # not valid JSON: let the YAML reader report it with a line
    if looks_like_saved_json(doc):
        return _saved_targets([(str(path), doc)])
    return None


def collect_project(spec: ProjectSpec, options: ComposeOptions) -> list[Collected]:
    """Load one project; any failure becomes a failed target naming the main file."""
    from auditor.pipeline import Collected

    uri = Uris(spec.root)(spec.files[0])
    if len(spec.files) == 1:
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
        )
    except InputError as exc:
        return [_failed(uri, exc)]
    except (RecursionError, MemoryError):
        return [_failed(uri, InputError("compose file is nested too deeply or too large", uri))]
    return [Collected(snapshot.target, snapshot)]


def collect_compose(paths: Sequence[Path], options: ComposeOptions) -> list[Collected]:
    """Every compose project named by ``paths`` and ``options.merge_files``."""
    out: list[Collected] = []
    cwd = Path(os.getcwd())
    if options.merge_files:
        out.extend(collect_project(ProjectSpec(tuple(Path(f) for f in options.merge_files), cwd), options))
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            out.extend(collect_project(ProjectSpec((path,), cwd), options))
            continue
        try:
            found = discover(path)
        except InputError as exc:
            out.append(_failed(str(path), exc))
            continue
        if not found.projects:
            message = "no compose files found below this directory (looked for compose*.y(a)ml and docker-compose*.y(a)ml)"
            out.append(_failed(str(path), InputError(message, str(path))))
        for project in found.projects:
            out.extend(collect_project(ProjectSpec(project.files, path, project.notes), options))
    return out
