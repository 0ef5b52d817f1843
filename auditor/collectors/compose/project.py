"""One compose project: its files loaded, interpolated, ``extends`` resolved, merged in order,
its name computed as compose computes it, and its services narrowed by profile.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from auditor.model.errors import InputError
from auditor.model.records import Origin, Snapshot, SourceKind, Target
from auditor.model.suppress import Suppression
from auditor.model.yamltree import Map, Seq, parse_text

from .build import ProjectBuilder, fail, mapping
from .inline import comment_ignores, extension_ignores
from .interpolate import Unresolved, interpolate_tree, read_env_file
from .merge import merge_maps, strip_resets
from .tree import Parsed, load_file, read_text

_NAME_CHARS = re.compile(r"[a-z0-9_-]")
STDIN_PATH = Path("-")  # `auditor scan -`: a compose file read from standard input
TOP_LEVEL_KEYS = (
    "services",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "include",
    "name",
    "version",
    "models",
)
MAX_EXTENDS_DEPTH = 32


def normalize_project_name(text: str) -> str:
    """Lower case, only ``[a-z0-9_-]``, no leading ``_``/``-`` (compose's normalization)."""
    return "".join(_NAME_CHARS.findall(text.lower())).lstrip("_-")


@dataclass(frozen=True)
class Uris:
    """Turns file paths into report URIs: relative to the scanned root when below it."""

    root: Path

    @cached_property
    def _cwd(self) -> str:  # a scan does not change directory; abspath asked the kernel per file
        return os.getcwd()

    @cached_property
    def _root(self) -> str:
        return self._absolute(self.root)

    def _absolute(self, path: Path) -> str:
        text = os.fspath(path)
        return os.path.normpath(text if os.path.isabs(text) else os.path.join(self._cwd, text))

    def __call__(self, path: Path) -> str:
        if path == STDIN_PATH:
            return "stdin"
        # Plain strings: pathlib's relative_to cost a compose scan 10% of its time.
        absolute = self._absolute(path)
        root = self._root
        if absolute == root:
            return "."
        prefix = root if root.endswith("/") else root + "/"
        if absolute.startswith(prefix):
            return absolute[len(prefix) :]
        return path.as_posix()


class Environment:
    """Variables for interpolation: ``--set`` values over the process environment over the
    project's env files (``.env`` beside the main file, or the ``--env-file`` ones)."""

    def __init__(
        self,
        project_dir: Path,
        env_files: Sequence[str],
        uris: Uris,
        environ: Mapping[str, str],
        variables: Mapping[str, str] | None = None,
    ):
        self.environ = {**environ, **(variables or {})}
        self.values: dict[str, str] = {}
        files = [Path(f) for f in env_files] if env_files else [project_dir / ".env"]
        for path in files:
            if not env_files and not os.path.exists(path):  # a dangling .env link: absent, as compose has it
                continue
            self.values.update(read_env_file(path, uris(path), {**self.values, **self.environ}))

    def lookup(self, name: str) -> str | None:
        if name in self.environ:
            return self.environ[name]
        return self.values.get(name)


class Loader:
    """Loads and interpolates each file once (a file may be extended by many services)."""

    def __init__(
        self,
        env: Environment,
        uris: Uris,
        stdin: str | None = None,
        read: list[Path] | None = None,
        unresolved: Unresolved | None = None,
        parsed: Parsed | None = None,
    ):
        self.env = env
        self.uris = uris
        self.stdin = stdin
        self.parsed = parsed  # files discovery read already
        self.cache: dict[str, Map] = {}
        self.by_path: dict[Path, Map] = {}
        self.read = [] if read is None else read  # every file loaded, included ones too (shared)
        self.unresolved = unresolved if unresolved is not None else Unresolved()

    def load(self, path: Path) -> Map:
        seen = self.by_path.get(path)  # asked once per service: skip abspath's getcwd
        if seen is not None:
            return seen
        key = os.path.abspath(path)
        if key not in self.cache:
            uri = self.uris(path)
            tree = self._parse(path, uri)
            if tree is None:
                raise InputError("empty compose file", uri)
            if not isinstance(tree, Map):
                raise InputError("a compose file must be a mapping at the top level", uri, 1)
            if not tree:
                raise InputError("empty compose file (expected services, or `docker inspect` output)", uri, 1)
            unknown = [k for k in tree if k not in TOP_LEVEL_KEYS and not k.startswith("x-")]
            if unknown:
                raise InputError(
                    f"unknown top-level key {unknown[0]!r}: expected a compose file ({', '.join(TOP_LEVEL_KEYS)}), "
                    "`docker inspect` output or an auditor snapshot",
                    uri,
                    tree.at(unknown[0]).line,
                )
            self.cache[key] = interpolate_tree(tree, self.env.lookup, self.unresolved)
            self.read.append(path)
        self.by_path[path] = self.cache[key]
        return self.cache[key]

    def _parse(self, path: Path, uri: str) -> object:
        if self.stdin is not None and path == STDIN_PATH:
            return parse_text(self.stdin, uri)
        if self.parsed is not None:
            kept, tree = self.parsed.take(path, uri)
            if kept:
                return tree
        return load_file(path, uri)

    def text(self, path: Path) -> str:
        """The text of a file this loader read (for its comments)."""
        if self.stdin is not None and path == STDIN_PATH:
            return self.stdin
        uri = self.uris(path)
        text = self.parsed.text(path) if self.parsed is not None else None
        return read_text(path, uri) if text is None else text

    def services(self, path: Path) -> Map:
        tree = self.load(path)
        return mapping(tree.get("services"), "services", tree.at("services"))


def _extends_target(name: str, svc: Map) -> tuple[str, str | None]:
    spec = svc.get("extends")
    origin = svc.at("extends")
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, Map) and isinstance(spec.get("service"), str):
        file = spec.get("file")
        if file is not None and not isinstance(file, str):
            raise fail(f"service {name}: extends.file must be a string", origin)
        return spec["service"], file
    raise fail(f"service {name}: extends needs a service name", origin)


def resolve_extends(loader: Loader, path: Path, name: str, chain: tuple[tuple[Path, str], ...] = ()) -> Map:
    """The service ``name`` of file ``path`` with its ``extends`` chain applied."""
    services = loader.services(path)
    origin = services.at(name)
    svc = mapping(services.get(name), f"service {name}", origin)
    if "extends" not in svc:
        return svc
    base_name, base_file = _extends_target(name, svc)
    here = (Path(os.path.abspath(path)), name)
    if here in chain or len(chain) > MAX_EXTENDS_DEPTH:
        raise fail(f"service {name}: circular reference in extends", svc.at("extends"))
    base_path = path.parent / base_file if base_file else path
    try:
        base_services = loader.services(base_path)
    except InputError as exc:
        if base_file and not base_path.exists():
            raise fail(f"service {name}: extended file {base_file} not found", svc.at("extends")) from None
        raise exc
    if base_name not in base_services:
        raise fail(f"service {name}: cannot extend service {base_name}: not found", svc.at("extends"))
    base = resolve_extends(loader, base_path, base_name, (*chain, here))
    own = Map(svc.origin)
    for key, value in svc.items():
        if key != "extends":
            own.put(key, value, svc.at(key))
    return merge_maps(base, own, ("services", name), keep_base_origin=False)


# Top-level sections an included project contributes to the including one.
INCLUDED_SECTIONS = ("services", "networks", "volumes", "secrets", "configs")
MAX_INCLUDE_DEPTH = 16


def _include_entries(tree: Map, path: Path) -> list[tuple[list[Path], list[str], Origin]]:
    """``include:`` items as (files merged in order, env files, origin), paths resolved from
    the including file's directory. Short syntax is a path; long syntax a mapping."""
    items = tree.get("include")
    if items is None:
        return []
    if not isinstance(items, Seq):
        raise fail("include must be a list", tree.at("include"))
    out = []
    for index, item in enumerate(items):
        origin = items.at(index)
        env_files: list[str] = []
        if isinstance(item, str):
            paths = [item]
        elif isinstance(item, Map):
            raw = item.get("path")
            paths = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, Seq) else []
            env = item.get("env_file")
            env_files = (
                [env] if isinstance(env, str) else [str(e) for e in env] if isinstance(env, Seq) else []
            )
        else:
            paths = []
        if not paths or not all(isinstance(p, str) and p for p in paths):
            raise fail("include items need a path", origin)
        out.append(([path.parent / p for p in paths], [str(path.parent / e) for e in env_files], origin))
    return out


def _add_included(own: Map, included: Map, origin: Origin) -> None:
    """Add an included project's resources; redefining one is an error, as in compose."""
    for section in INCLUDED_SECTIONS:
        theirs = included.get(section)
        if not isinstance(theirs, Map) or not theirs:
            continue
        mine = own.get(section)
        if not isinstance(mine, Map):
            mine = Map(theirs.origin)
            own.put(section, mine, origin)
        for name, value in theirs.items():
            if name in mine:
                raise fail(f"{section}.{name} conflicts with a resource imported by include", origin)
            mine.put(name, value, theirs.at(name))


def load_tree(loader: Loader, files: Sequence[Path], depth: int = 0) -> Map:
    """All files, each with its ``extends`` resolved and its ``include`` added, merged in order."""
    merged: Map | None = None
    for path in files:
        tree = loader.load(path)
        services = mapping(
            tree.get("services", Map(tree.origin)),
            "services",
            tree.at("services") if "services" in tree else tree.origin,
        )
        resolved = Map(services.origin)
        for name in services:
            resolved.put(name, resolve_extends(loader, path, name), services.at(name))
        own = Map(tree.origin)
        for key, value in tree.items():
            if key != "include":
                own.put(key, resolved if key == "services" else value, tree.at(key))
        if "services" not in own:
            own.put("services", resolved, tree.origin)
        for include_files, env_files, origin in _include_entries(tree, path):
            if depth >= MAX_INCLUDE_DEPTH:
                raise fail("include nested too deeply (a file including itself?)", origin)
            missing = [f for f in include_files if not os.path.lexists(f)]
            if missing:
                raise fail(f"included file {missing[0].name} not found", origin)
            sub_env = Environment(include_files[0].parent, env_files, loader.uris, loader.env.environ)
            included = load_tree(
                Loader(
                    sub_env, loader.uris, read=loader.read, unresolved=loader.unresolved, parsed=loader.parsed
                ),
                include_files,
                depth + 1,
            )
            _add_included(own, included, origin)
        merged = own if merged is None else merge_maps(merged, own)
    assert merged is not None
    return strip_resets(merged)


def project_name(tree: Map, project_dir: Path, env: Environment, main_uri: str) -> str:
    """``COMPOSE_PROJECT_NAME``, else the ``name`` key, else the directory name; normalized."""
    imperative = env.lookup("COMPOSE_PROJECT_NAME")
    if imperative:
        if normalize_project_name(imperative) != imperative:
            raise InputError(f"invalid project name {imperative!r} in COMPOSE_PROJECT_NAME", main_uri)
        return imperative
    declared = tree.get("name")
    if declared is not None and not isinstance(declared, str):
        raise fail("name must be a string", tree.at("name"))
    name = normalize_project_name(declared or "")
    if not name:
        name = normalize_project_name(Path(os.path.abspath(project_dir)).name)
    if not name:
        raise InputError("project name must not be empty (name the project with `name:`)", main_uri)
    return name


def active_services(tree: Map, profiles: Sequence[str]) -> list[str]:
    """All services by default; with profiles, those without profiles plus the matching ones."""
    services = mapping(tree.get("services"), "services", tree.at("services"))
    wanted = {p.strip() for p in profiles if p.strip()}
    out = []
    for name, svc in services.items():
        declared = svc.get("profiles") if isinstance(svc, Map) else None
        if declared is not None and not isinstance(declared, Seq):
            raise fail(f"service {name}: profiles must be a list", svc.at("profiles"))
        if not wanted or "*" in wanted or not declared or wanted & {str(p) for p in declared}:
            out.append(name)
    return out


@dataclass(frozen=True)
class ProjectSpec:
    """What to load: files merged in order, the directory they belong to, the URI root, and
    what discovery said about how the files were chosen."""

    files: tuple[Path, ...]
    root: Path
    notes: tuple[str, ...] = ()
    stdin: str | None = None  # the text of the file ``-`` (``auditor scan -``)


def selected_profiles(env: Environment, profiles: Sequence[str], all_profiles: bool) -> tuple[str, ...]:
    """``--all-profiles``, else ``--profile``, else ``COMPOSE_PROFILES`` (environment or
    ``.env``, as compose reads it), else every service."""
    if all_profiles:
        return ()
    if profiles:
        return tuple(profiles)
    return tuple(p for p in (env.lookup("COMPOSE_PROFILES") or "").split(",") if p.strip())


def unset_warning(name: str) -> str:
    return f"variable {name} is not set: compose substitutes a blank string"


def load_project(
    spec: ProjectSpec,
    env_files: Sequence[str] = (),
    profiles: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    all_profiles: bool = False,
    parsed: Parsed | None = None,
) -> Snapshot:
    """Read one project into a ``Snapshot``; every malformed input is an ``InputError`` with
    file:line. What compose would refuse for lack of context (a base file, a variable, an
    env file) is audited anyway and listed in ``Snapshot.incomplete``."""
    uris = Uris(spec.root)
    main = spec.files[0]
    project_dir = main.parent
    env = Environment(project_dir, env_files, uris, os.environ if environ is None else environ, variables)
    loader = Loader(env, uris, spec.stdin, parsed=parsed)
    tree = load_tree(loader, spec.files)
    name = project_name(tree, project_dir, env, uris(main))
    target = Target(SourceKind.COMPOSE, name, uris(main))
    builder = ProjectBuilder(tree, name, target, spec.root)
    notes = list(spec.notes)
    if len(spec.files) > 1:
        notes.append("merged files: " + ", ".join(uris(f) for f in spec.files))
    warnings = tuple(unset_warning(v) for v in loader.unresolved.unset)
    gaps = tuple(loader.unresolved.required.values())
    active = active_services(tree, selected_profiles(env, profiles, all_profiles))
    snapshot = builder.snapshot(active, tuple(notes), warnings=warnings, gaps=gaps)
    return replace(snapshot, suppressions=tuple(_inline_ignores(loader, tree, active)))


def _inline_ignores(loader: Loader, tree: Map, active: Sequence[str]) -> list[Suppression]:
    """Comments in every file read (by line), then ``x-auditor`` of the file and each service."""
    out: list[Suppression] = []
    for path in loader.read:
        out.extend(comment_ignores(loader.text(path), loader.uris(path)))
    out.extend(extension_ignores(tree, None))
    services = tree.get("services")
    for name in active:
        svc = services.get(name) if isinstance(services, Map) else None
        if isinstance(svc, Map):
            out.extend(extension_ignores(svc, name))
    return out
