"""YAML 1.2 loading into plain dicts and lists that remember the file and line of every item.

``ruamel.yaml`` (round-trip mode) parses YAML 1.2, so an unquoted ``22:22`` stays a string, and
keeps positions. The tree is converted once into ``Map``/``Seq`` (a ``dict``/``list`` carrying
an ``Origin`` per key or item) so interpolation, merging and ``extends`` can move items around
without losing where each one was written. Alias expansion is bounded (billion-laughs files).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from auditor.errors import InputError
from auditor.model import Origin, SourceKind

MAX_FILE_BYTES = 4 * 1024 * 1024
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


def _tag(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", None)
    return value if isinstance(value, str) else None


class _Converter:
    def __init__(self, uri: str):
        self.uri = uri
        self.nodes = 0

    def origin(self, line: int | None) -> Origin:
        return Origin(SourceKind.COMPOSE, self.uri, None if line is None else line + 1)

    def convert(self, node: Any, line: int | None, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InputError(f"document too large after expanding aliases (over {MAX_NODES} nodes)", self.uri)
        if depth > MAX_DEPTH:
            raise InputError(f"document nested deeper than {MAX_DEPTH} levels (recursive alias?)", self.uri)
        tag = _tag(node)
        if tag == "!reset":
            return RESET
        if isinstance(node, CommentedMap):
            return self._map(node, line, depth, tag == "!override")
        if isinstance(node, CommentedSeq):
            out = Seq(self.origin(line), tag == "!override")
            for i, item in enumerate(node):
                item_line = _item_line(node, i, line)
                out.add(self.convert(item, item_line, depth + 1), self.origin(item_line))
            return out
        if isinstance(node, TaggedScalar):
            return node.value
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, (datetime.date, datetime.datetime)):
            return node.isoformat()
        return str(node)

    def _map(self, node: CommentedMap, line: int | None, depth: int, override: bool) -> Map:
        out = Map(self.origin(line if line is not None else _own_line(node)), override)
        for key, value in node.items():
            key_line = _key_line(node, key, line)
            if isinstance(key, (CommentedMap, CommentedSeq)):
                raise InputError("a mapping key must be a scalar", self.uri, None if key_line is None else key_line + 1)
            text = _key_text(key)
            out.put(text, self.convert(value, key_line, depth + 1), self.origin(key_line))
        return out


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _own_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return getattr(lc, "line", None) if lc is not None else None


def _key_line(node: CommentedMap, key: Any, fallback: int | None) -> int | None:
    try:
        return node.lc.key(key)[0]
    except (KeyError, TypeError, AttributeError):
        pass
    # A key that came in through a ``<<: *anchor`` merge: point at the anchored mapping.
    for item in getattr(node, "merge", None) or ():
        source = item[1] if isinstance(item, tuple) else item  # ruamel >= 0.19: a MergeValue of maps
        if isinstance(source, CommentedMap) and key in source:
            return _key_line(source, key, fallback)
    return fallback


def _item_line(node: CommentedSeq, index: int, fallback: int | None) -> int | None:
    try:
        return node.lc.item(index)[0]
    except (KeyError, IndexError, TypeError, AttributeError):
        return fallback


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


def parse_text(text: str, uri: str) -> Any:
    """Parse YAML text into the positioned tree; every failure is an ``InputError``."""
    try:
        node = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"YAML syntax error: {problem}", uri, line) from None
    except YAMLError as exc:
        raise InputError(f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", uri) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", uri) from None
    try:
        return _Converter(uri).convert(node, 0 if node is not None else None, 0)
    except RecursionError:
        raise InputError("YAML is nested too deeply", uri) from None


def read_text(path: Path, uri: str) -> str:
    """A compose file's text, refusing huge files, non-files and undecodable bytes."""
    try:
        if not path.is_file():
            raise InputError("not a regular file", uri)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is too large to be a compose file ({size} bytes, limit {MAX_FILE_BYTES})", uri)
        data = path.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", uri) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", uri) from None


def load_file(path: Path, uri: str) -> Any:
    return parse_text(read_text(path, uri), uri)
