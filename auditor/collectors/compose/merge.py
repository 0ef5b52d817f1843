"""Merging compose files in order (``-f a -f b``, override files) and resolving ``extends``.

Mappings merge key by key, scalars are replaced, sequences are appended (duplicates are
dropped later, when the model is built, by the same keys compose uses). ``command``,
``entrypoint`` and ``healthcheck.test`` are replaced whole; service ``networks`` given as a list
merge with a mapping; ``!reset`` removes a value and ``!override`` replaces it whole.
"""

from __future__ import annotations

from typing import Any

from auditor.model.yamltree import RESET, Map, Seq

_REPLACED = {("command",), ("entrypoint",), ("healthcheck", "test")}
_TO_MAPPING = {("networks",), ("labels",)}


def _as_mapping(value: Any) -> Any:
    """A list form (``[a, b]`` or ``["k=v"]``) as a mapping, keeping positions."""
    if not isinstance(value, Seq):
        return value
    out = Map(value.origin)
    for i, item in enumerate(value):
        if isinstance(item, str) and "=" in item:
            key, _, val = item.partition("=")
            out.put(key, val, value.at(i))
        else:
            out.put(str(item), None, value.at(i))
    return out


def merge_values(base: Any, over: Any, path: tuple[str, ...], keep_base_origin: bool) -> Any:
    """``over`` applied on top of ``base`` (both positioned trees; neither is modified)."""
    if over is RESET:
        return RESET
    if getattr(over, "override", False):
        return over
    service_path = path[2:] if len(path) > 2 and path[0] == "services" else None
    if service_path in _REPLACED:
        return over
    if service_path in _TO_MAPPING and (isinstance(base, Seq) or isinstance(over, Seq)):
        base, over = _as_mapping(base), _as_mapping(over)
    if isinstance(base, Map) and isinstance(over, Map):
        return merge_maps(base, over, path, keep_base_origin)
    if isinstance(base, Seq) and isinstance(over, Seq):
        out = Seq(base.origin if keep_base_origin else over.origin)
        for i, item in enumerate(base):
            out.add(item, base.at(i))
        for i, item in enumerate(over):
            out.add(item, over.at(i))
        return out
    return over


def merge_maps(base: Map, over: Map, path: tuple[str, ...] = (), keep_base_origin: bool = True) -> Map:
    out = Map(base.origin if keep_base_origin else over.origin)
    for key, value in base.items():
        out.put(key, value, base.at(key))
    for key, value in over.items():
        if key not in out or key.startswith("x-"):
            if value is not RESET:
                out.put(key, value, over.at(key))
            continue
        merged = merge_values(out[key], value, (*path, key), keep_base_origin)
        if merged is RESET:
            del out[key]
            out.where.pop(key, None)
            continue
        both_maps = isinstance(merged, Map) and merged is not value
        out.put(key, merged, out.at(key) if (both_maps and keep_base_origin) else over.at(key))
    return out


def strip_resets(node: Any) -> Any:
    """Drop ``!reset`` values left in a single file (nothing to reset there)."""
    if isinstance(node, Map):
        for key in [k for k, v in node.items() if v is RESET]:
            del node[key]
        for value in node.values():
            strip_resets(value)
    elif isinstance(node, Seq):
        for value in node:
            strip_resets(value)
    return node
