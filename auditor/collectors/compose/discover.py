"""Finding compose projects below a directory, as ``docker compose`` would find them in each.

In every directory the first of ``compose.yaml``, ``compose.yml``, ``docker-compose.yml``,
``docker-compose.yaml`` is the project's file, followed by the first override file found.
Dependency and tool folders are skipped, symlinked directories are not followed (no loops),
and the walk is bounded.
"""

from __future__ import annotations

import os
from pathlib import Path

from auditor.model.errors import InputError

MAIN_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "vendor", "__pycache__", ".tox",
        ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".terraform", "site-packages",
        ".idea", ".cache",
    }
)
MAX_ENTRIES = 500_000
MAX_DEPTH = 40


def project_files(directory: Path, names: set[str]) -> tuple[Path, ...] | None:
    """The files of the project in ``directory`` (main file, then override), if any."""
    main = next((n for n in MAIN_NAMES if n in names), None)
    if main is None:
        return None
    override = next((n for n in OVERRIDE_NAMES if n in names), None)
    files = [directory / main]
    if override:
        files.append(directory / override)
    return tuple(files)


def find_projects(root: Path) -> list[tuple[Path, ...]]:
    """Every project below ``root``, in a stable order."""
    found: list[tuple[Path, ...]] = []
    seen = 0
    errors: list[OSError] = []
    for current, dirs, files in os.walk(root, onerror=errors.append, followlinks=False):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            raise InputError(f"too many files below this directory (over {MAX_ENTRIES}); scan a narrower path", str(root))
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and depth < MAX_DEPTH)
        files_found = project_files(here, set(files))
        if files_found:
            found.append(files_found)
    if errors and not found and not os.access(root, os.R_OK):
        raise InputError(f"cannot read directory: {errors[0].strerror}", str(root))
    return found
