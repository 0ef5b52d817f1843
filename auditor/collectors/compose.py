"""Compose files as a source (being built: see the compose issue)."""

from __future__ import annotations

from pathlib import Path

from auditor.errors import InputError
from auditor.model import SourceKind, Target


def collect_compose(paths: list[Path], options) -> list:
    from auditor.pipeline import Collected

    return [
        Collected(Target(SourceKind.COMPOSE, str(p), str(p)), None, InputError("compose files are not supported yet", str(p)))
        for p in paths
    ]
