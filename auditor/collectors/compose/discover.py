"""Finding compose projects below a directory, as ``docker compose`` would be pointed at them.

Every file named like a compose file (``compose.yaml``, ``docker-compose.yml``, and variants
such as ``docker-compose.prod.yml``, ``compose.postgres.yaml``, ``docker-compose-dev.yml``,
``compose_databases.yaml``) is audited; in each directory:

- the first of ``compose.yaml``, ``compose.yml``, ``docker-compose.yml``, ``docker-compose.yaml``
  is the main file, followed by the first standard override file found (``compose up`` alone);
- a file another compose file of that directory includes (``include:``) or extends from
  (``extends.file``) is audited as part of that project, not on its own;
- a variant that is complete on its own (every service has an ``image`` or a ``build``) is a
  project of its own, as ``compose -f VARIANT`` would read it;
- a variant that is not (a service with neither: an overlay) is merged after its base file, as
  ``compose -f BASE -f VARIANT`` would: ``X.override.yml`` after ``X.yml``, others after the
  main file. Without a base file it stays alone, and the reader marks it incomplete.

Each project carries notes saying how its files were chosen. Dependency and tool folders are
skipped, symlinked directories are not followed (no loops), and the walk is bounded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from auditor.model.errors import InputError
from auditor.model.yamltree import Map, Seq

from .tree import Parsed, load_file

MAIN_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
COMPOSE_LIKE = re.compile(r"(docker-)?compose([._-][^/]*)?\.ya?ml\Z")
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "vendor",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
        "site-packages",
        ".idea",
        ".cache",
    }
)
MAX_ENTRIES = 500_000
MAX_DEPTH = 40


@dataclass(frozen=True)
class Found:
    """One project: its files merged in order, and how they were chosen."""

    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discovery:
    """What a directory walk found: the projects, and compose-like files not audited alone."""

    projects: tuple[Found, ...]
    skipped: tuple[tuple[Path, str], ...] = ()


def _peek(path: Path, parsed: Parsed | None = None) -> Map | None:
    """The file's tree when it parses as a mapping; errors are the reader's to report later.
    With ``parsed``, the text and tree are kept there for the loader."""
    try:
        tree = load_file(path, path.name) if parsed is None else parsed.load(path)
    except (InputError, RecursionError, MemoryError):
        return None
    return tree if isinstance(tree, Map) else None


def _references(tree: Map) -> list[str]:
    """Paths a file pulls in: ``include`` items (short and long syntax) and ``extends.file``."""
    out: list[str] = []
    include = tree.get("include")
    for item in include if isinstance(include, Seq) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Map):
            raw = item.get("path")
            out += (
                [raw]
                if isinstance(raw, str)
                else [p for p in raw if isinstance(p, str)]
                if isinstance(raw, Seq)
                else []
            )
    services = tree.get("services")
    for svc in services.values() if isinstance(services, Map) else []:
        ext = svc.get("extends") if isinstance(svc, Map) else None
        if isinstance(ext, Map) and isinstance(ext.get("file"), str):
            out.append(ext["file"])
    return out


def overlay_reason(tree: Map | None) -> str | None:
    """Why a file is an overlay rather than a project (``None``: complete on its own)."""
    if tree is None:
        return None
    services = tree.get("services")
    if not isinstance(services, Map) or not services:
        return None if tree.get("include") else "it defines no services"
    for name, svc in services.items():
        if isinstance(svc, Map) and not ({"image", "build", "extends"} & set(svc)):
            return f"service {name} has neither image nor build"
    return None


def _base_for(variant: str, names: set[str], main: str | None) -> str | None:
    """``X.override.yml`` overlays ``X.yml``; any other variant overlays the main file."""
    stem, dot, rest = variant.partition(".override.")
    if dot:
        for ext in (".yml", ".yaml"):
            if stem + ext in names and stem + ext != variant:
                return stem + ext
    return main


def directory_projects(
    directory: Path, names: set[str], parsed: Parsed | None = None
) -> tuple[list[Found], list[tuple[Path, str]]]:
    """The projects of one directory and the files audited only as part of another."""
    compose_names = sorted(n for n in names if COMPOSE_LIKE.match(n))  # unreadable ones: the reader says why
    if not compose_names:
        return [], []
    main = next((n for n in MAIN_NAMES if n in compose_names), None)
    override = next((n for n in OVERRIDE_NAMES if n in compose_names), None)
    trees = {n: _peek(directory / n, parsed) for n in compose_names if n not in (main, override)}
    if main is not None:
        trees[main] = _peek(directory / main, parsed)
    referenced: dict[str, str] = {}
    for name, tree in trees.items():
        for ref in _references(tree) if tree is not None else []:
            target = os.path.normpath(os.path.join(directory, ref))
            if os.path.dirname(target) == os.path.normpath(directory) and os.path.basename(target) != name:
                referenced.setdefault(os.path.basename(target), name)
    found: list[Found] = []
    skipped: list[tuple[Path, str]] = []
    if main is not None:
        files = [directory / main] + ([directory / override] if override else [])
        found.append(Found(tuple(files)))
    elif override is not None:
        found.append(Found((directory / override,), ("an override file without a main file: audited alone",)))
    for name in compose_names:
        if name in (main, override) or name in OVERRIDE_NAMES:
            if name in OVERRIDE_NAMES and name not in (main, override):
                skipped.append((directory / name, f"a second override file; compose reads only {override}"))
            continue
        if name in MAIN_NAMES:
            skipped.append((directory / name, f"a second main file; compose reads only {main}"))
            continue
        if name in referenced:
            skipped.append((directory / name, f"pulled in by {referenced[name]} (audited as part of it)"))
            continue
        reason = overlay_reason(trees.get(name))
        base = _base_for(name, set(compose_names), main) if reason else None
        if reason and base is not None:
            note = f"{name} merged after {base}, as `compose -f {base} -f {name}` would read it: {reason}"
            found.append(Found((directory / base, directory / name), (note,)))
        else:
            found.append(Found((directory / name,)))
    if found and skipped:  # said where a reader looks: on the directory's first project
        said = tuple(f"{path.name} not audited on its own: {reason}" for path, reason in skipped)
        found[0] = Found(found[0].files, found[0].notes + said)
    return found, skipped


def discover(root: Path, parsed: Parsed | None = None) -> Discovery:
    """Every project below ``root``, in a stable order, and what was not audited alone
    (with ``parsed``, every file read on the way is kept there for loading)."""
    found: list[Found] = []
    skipped: list[tuple[Path, str]] = []
    seen = 0
    errors: list[OSError] = []
    for current, dirs, files in os.walk(root, onerror=errors.append, followlinks=False):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            raise InputError(
                f"too many files below this directory (over {MAX_ENTRIES}); scan a narrower path", str(root)
            )
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and depth < MAX_DEPTH)
        projects, left = directory_projects(here, set(files), parsed)
        found += projects
        skipped += left
    if errors and not found and not os.access(root, os.R_OK):
        raise InputError(f"cannot read directory: {errors[0].strerror}", str(root))
    return Discovery(tuple(found), tuple(skipped))


def find_projects(root: Path) -> list[tuple[Path, ...]]:
    """The files of every project below ``root`` (see ``discover``)."""
    return [p.files for p in discover(root).projects]
