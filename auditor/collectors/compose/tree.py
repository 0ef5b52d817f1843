"""YAML 1.2 loading into plain dicts and lists that remember the file and line of every item.

``ruamel.yaml`` composes the node graph (twice as fast as its round-trip loader, which also
builds objects) with a position on every node; plain scalars are then typed by the YAML 1.2
core schema, so an unquoted ``22:22`` stays a string. The graph is
converted once into ``Map``/``Seq`` (a ``dict``/``list`` carrying an ``Origin`` per key or item)
so interpolation, merging and ``extends`` can move items around without losing where each one
was written. Alias expansion is bounded (billion-laughs files).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.records import Origin, SourceKind

MAX_FILE_BYTES = inputs.COMPOSE_LIMIT
MAX_NODES = 200_000
MAX_DEPTH = 64


class Reset:
    """Value of a ``!reset`` tag: remove what earlier files set for this key."""

    def __repr__(self) -> str:
        return "!reset"


RESET = Reset()


class Map(dict):
    """A mapping whose keys remember where they were written (``where[key]``)."""

    def __init__(self, origin: Origin, override: bool = False):
        super().__init__()
        self.origin = origin
        self.where: dict[str, Origin] = {}
        self.override = override  # written with !override: replaces instead of merging

    def put(self, key: str, value: Any, origin: Origin) -> None:
        self[key] = value
        self.where[key] = origin

    def at(self, key: str) -> Origin:
        return self.where.get(key, self.origin)


class Seq(list):
    """A sequence whose items remember where they were written (``where[i]``)."""

    def __init__(self, origin: Origin, override: bool = False):
        super().__init__()
        self.origin = origin
        self.where: list[Origin] = []
        self.override = override

    def add(self, value: Any, origin: Origin) -> None:
        self.append(value)
        self.where.append(origin)

    def at(self, index: int) -> Origin:
        return self.where[index] if 0 <= index < len(self.where) else self.origin


_PLAIN_NULL = {"", "~", "null", "Null", "NULL"}
_PLAIN_TRUE = {"true", "True", "TRUE"}
_PLAIN_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _tag_of(node: Node) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag) or "")


def plain_scalar(text: str) -> Any:
    """A plain (unquoted) scalar resolved by the YAML 1.2 core schema: ``22:22`` stays a string."""
    if text in _PLAIN_NULL:
        return None
    if text in _PLAIN_TRUE:
        return True
    if text in _PLAIN_FALSE:
        return False
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    return text


class _Converter:
    """Node graph (with marks) -> ``Map``/``Seq``/scalars, bounding alias expansion."""

    def __init__(self, uri: str):
        self.uri = uri
        self.nodes = 0

    def origin(self, node: Node) -> Origin:
        return Origin(SourceKind.COMPOSE, self.uri, node.start_mark.line + 1)

    def convert(self, node: Node, at: Origin, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InputError(f"document too large after expanding aliases (over {MAX_NODES} nodes)", self.uri)
        if depth > MAX_DEPTH:
            raise InputError(f"document nested deeper than {MAX_DEPTH} levels", self.uri)
        tag = _tag_of(node)
        if tag == "!reset":
            return RESET
        if isinstance(node, ScalarNode):
            if node.style in (None, "") and not tag.startswith("!"):
                return plain_scalar(node.value)  # implicit type, by the YAML 1.2 core schema
            return node.value
        if isinstance(node, SequenceNode):
            seq = Seq(at, tag == "!override")
            for item in node.value:
                where = self.origin(item)
                seq.add(self.convert(item, where, depth + 1), where)
            return seq
        if isinstance(node, MappingNode):
            return self._mapping(node, at, depth, tag == "!override")
        raise InputError(f"unsupported YAML node {type(node).__name__}", at.uri, at.line)

    def _mapping(self, node: MappingNode, at: Origin, depth: int, override: bool) -> Map:
        out = Map(at, override)
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if _tag_of(key_node) == _MERGE_TAG or (isinstance(key_node, ScalarNode) and key_node.value == "<<" and not key_node.style):
                merges.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                continue
            where = self.origin(key_node)
            if not isinstance(key_node, ScalarNode):
                raise InputError("a mapping key must be a scalar", self.uri, where.line)
            key = key_node.value
            if key in out:
                raise InputError(f"mapping key {key!r} already defined at line {out.at(key).line}", self.uri, where.line)
            out.put(key, self.convert(value_node, where, depth + 1), where)
        for source in merges:
            if not isinstance(source, MappingNode):
                raise InputError("a merge key (<<) needs a mapping or a list of mappings", self.uri, self.origin(source).line)
            merged = self._mapping(source, self.origin(source), depth + 1, False)
            for key, value in merged.items():
                if key not in out:
                    out.put(key, value, merged.at(key))
        return out


def _yaml() -> YAML:
    """ruamel's pure-Python composer: YAML 1.2 scanning (libyaml, a YAML 1.1 scanner, rejects
    ``{a: unix:///x}``, which compose accepts), positions on every node, no object construction."""
    return YAML(typ="safe", pure=True)


def parse_text(text: str, uri: str) -> Any:
    """Parse YAML text into the positioned tree; every failure is an ``InputError``."""
    try:
        node = _yaml().compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"YAML syntax error: {problem}", uri, line) from None
    except YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"YAML error: {first}", uri) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", uri) from None
    if node is None:
        return None
    converter = _Converter(uri)
    try:
        return converter.convert(node, converter.origin(node), 0)
    except RecursionError:
        raise InputError("YAML is nested too deeply", uri) from None


def read_text(path: Path, uri: str) -> str:
    """A compose file's text through the bounded reader (regular files only, size-capped)."""
    return inputs.read_text(path, "compose file", MAX_FILE_BYTES, shown=uri)


def load_file(path: Path, uri: str) -> Any:
    return parse_text(read_text(path, uri), uri)
