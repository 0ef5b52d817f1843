"""Finds the rules to run: the built-in tuple plus third-party packs from entry points.

Two explicit phases, as flake8 does it: find the candidates (built-ins and entry-point
records), then load them. A pack that fails to load is named in the error; duplicate ids are
rejected; the result is sorted by id so runs are deterministic.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.machinery import PathFinder
from typing import TYPE_CHECKING

from auditor.model.rule import Rule

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "auditor.rules"


class DiscoveryError(Exception):
    """A rule pack could not be loaded, or two rules claim one id."""


@dataclass(frozen=True)
class RuleSource:
    name: str  # "builtin" or the entry point's "name = value"
    rules: tuple[Rule, ...]


def builtin_rules() -> tuple[Rule, ...]:
    from auditor.rules import BUILTIN_RULES

    return BUILTIN_RULES


def may_declare(group: str, path: Iterable[str] | None = None) -> bool:
    """Whether a distribution on ``path`` (``sys.path``) may declare entry points of ``group``.

    Reads each ``*.dist-info``/``*.egg-info`` folder's ``entry_points.txt`` where
    ``importlib.metadata`` would look, without importing it (40 ms, a sixth of a one-file scan).
    Whatever this cannot see through (a zip or ``.egg`` on the path, a finder of distributions
    other than the standard one) counts as yes, and the real lookup decides."""
    if any(getattr(f, "find_distributions", None) is not None and f is not PathFinder for f in sys.meta_path):
        return True
    header = f"[{group}]"
    for entry in sys.path if path is None else path:
        folder = entry or "."
        if folder.endswith(".egg"):
            return True
        try:
            with os.scandir(folder) as listing:
                infos = [
                    e.path for e in listing if e.name.endswith((".dist-info", ".egg-info")) and e.is_dir()
                ]
        except NotADirectoryError:
            return True  # a zip on the path
        except OSError:
            continue
        for info in infos:
            try:
                with open(os.path.join(info, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                    if header in f.read():
                        return True
            except OSError:
                continue
    return False


def find_entry_points() -> tuple[EntryPoint, ...]:
    if not may_declare(ENTRY_POINT_GROUP):
        return ()
    from importlib.metadata import entry_points

    return tuple(sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name))


def load_entry_point(ep: EntryPoint) -> RuleSource:
    """Load one pack; it may export a ``Rule`` or an iterable of them."""
    label = f"{ep.name} = {ep.value}"
    try:
        obj = ep.load()
        if callable(obj) and not isinstance(obj, Rule):
            obj = obj()
        rules = (obj,) if isinstance(obj, Rule) else tuple(obj)
    except Exception as exc:  # noqa: BLE001 - any failure names the pack at fault
        raise DiscoveryError(f"rule pack {label!r} failed to load: {type(exc).__name__}: {exc}") from exc
    bad = [r for r in rules if not isinstance(r, Rule)]
    if bad:
        raise DiscoveryError(f"rule pack {label!r} exported something that is not a Rule: {bad[0]!r}")
    return RuleSource(label, rules)


def merge(sources: Iterable[RuleSource]) -> tuple[Rule, ...]:
    """Combine sources, rejecting duplicate ids, sorted by id."""
    by_id: dict[str, tuple[Rule, str]] = {}
    for source in sources:
        for rule in source.rules:
            if rule.id in by_id:
                first = by_id[rule.id][1]
                raise DiscoveryError(
                    f"duplicate rule id {rule.id!r} from {source.name!r} (already from {first!r})"
                )
            by_id[rule.id] = (rule, source.name)
    return tuple(by_id[i][0] for i in sorted(by_id))


def discover_rules(include_plugins: bool = True) -> tuple[Rule, ...]:
    sources = [RuleSource("builtin", builtin_rules())]
    if include_plugins:
        sources.extend(load_entry_point(ep) for ep in find_entry_points())
    return merge(sources)
