"""Finds the rules to run: the built-in tuple plus third-party packs from entry points.

Two explicit phases, as flake8 does it: find the candidates (built-ins and entry-point
records), then load them. A pack that fails to load is named in the error; duplicate ids are
rejected; the result is sorted by id so runs are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from auditor.model.rule import Rule

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


def find_entry_points() -> tuple[EntryPoint, ...]:
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
