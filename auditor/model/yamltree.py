"""YAML loading into plain dicts and lists that remember the file and line of every item.

PyYAML's libyaml parser (C) turns the text into events with positions; this module composes
them straight into ``Map``/``Seq`` (a ``dict``/``list`` carrying an ``Origin`` per key or item)
so that compose's interpolation, merging and ``extends`` can move items around without losing
where each one was written, and so that every error about a waivers file can name its line.
Scalars are typed as compose reads them (``yamlscalars.py``), not by PyYAML's YAML 1.1
resolver. Composing here rather than in libyaml's composer lets anchors be redefined (compose
allows it), keeps depth and alias expansion bounded while reading (no node graph of a hostile
file is ever built), and gives one code path for the C parser and PyYAML's pure-Python one,
used where the C extension is missing. Every ``Origin`` is of kind ``SourceKind.COMPOSE``:
the waivers read only its line. Reading a compose file from disk is ``collectors/compose/tree.py``.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Callable
from typing import Any

from yaml.error import MarkedYAMLError, YAMLError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.records import Origin, SourceKind
from auditor.model.yamlscalars import plain_scalar, tagged_scalar

MAX_NODES = 200_000
MAX_DEPTH = 64
# Characters of text copied by alias expansion: four times the largest YAML input (a compose file).
MAX_ALIAS_CHARS = 4 * inputs.COMPOSE_LIMIT

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BINARY_TAG = "tag:yaml.org,2002:binary"
_COMPOSE = SourceKind.COMPOSE


class YAMLSyntaxError(InputError):
    """The text is not YAML (or names an undefined alias, or holds a second document):
    ``problem`` is what went wrong, without the file, line and ``YAML syntax error:`` prefix."""

    def __init__(self, problem: str, path: str, line: int | None = None):
        super().__init__(f"YAML syntax error: {problem}", path, line)
        self.problem = problem


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


class _PureParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python parser: the events (and YAML 1.1 scanning) of libyaml's, except that
    a tab inside a plain scalar ends it (libyaml keeps it, as compose does)."""

    allow_simple_key: bool  # the Scanner's, set in its __init__ (PyYAML ships no type hints)

    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)

    def scan_to_next_token(self) -> None:
        """libyaml's rule for tabs, which compose shares: a tab separates tokens inside flow
        collections and where no simple key can start (``key:<TAB>value``), never as indentation.
        PyYAML's own scanner takes spaces only."""
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()
        while True:
            char = self.peek()
            while char == " " or (char == "\t" and (self.flow_level or not self.allow_simple_key)):
                self.forward()
                char = self.peek()
            if char == "#":
                while self.peek() not in "\0\r\n\x85\u2028\u2029":
                    self.forward()
            if not self.scan_line_break():
                return
            if not self.flow_level:
                self.allow_simple_key = True


def _event_source(text: str) -> Callable[[], Any]:
    """``get_event`` of libyaml's parser, or of the pure-Python one without PyYAML's C extension."""
    try:
        from yaml._yaml import CParser
    except ImportError:
        return _PureParser(text).get_event
    return CParser(text).get_event


class _Unfinished:
    """The entry of an anchor whose node is still being read: an alias to it would be a cycle."""


class _Composer:
    """Parser events -> ``Map``/``Seq``/scalars, with compose's typing and bounded expansion.

    An alias is expanded into a fresh copy of its anchor's value (interpolation later works in
    place, so no two places may share a container); copies count against ``MAX_NODES`` and
    ``MAX_DEPTH`` like written nodes, which bounds billion-laughs files.
    """

    def __init__(self, next_event: Callable[[], Any], uri: str, what: str):
        self.next = next_event
        self.uri = uri
        self.what = what  # the kind of file, for messages: "compose file", "waivers file"
        self.nodes = 0
        self.alias_chars = 0
        self.anchors: dict[str, tuple[Any, Origin] | _Unfinished] = {}

    def fail(self, message: str, event: Any) -> InputError:
        return InputError(message, self.uri, event.start_mark.line + 1)

    def syntax(self, problem: str, event: Any) -> YAMLSyntaxError:
        return YAMLSyntaxError(problem, self.uri, event.start_mark.line + 1)

    def origin(self, event: Any) -> Origin:
        return Origin(_COMPOSE, self.uri, event.start_mark.line + 1)

    def document(self) -> Any:
        self.next()  # stream start
        event = self.next()
        if event.__class__ is StreamEndEvent:
            return None
        event = self.next()  # the document's first node
        root = self.value(event, self.origin(event), 0)
        self.next()  # document end
        event = self.next()
        if event.__class__ is not StreamEndEvent:
            raise self.syntax(f"a second document (---) in one {self.what}", event)
        return root

    def bound(self, depth: int) -> None:
        if self.nodes > MAX_NODES:
            raise InputError(f"document too large after expanding aliases (over {MAX_NODES} nodes)", self.uri)
        if depth > MAX_DEPTH:
            raise InputError(f"document nested deeper than {MAX_DEPTH} levels", self.uri)

    def value(self, event: Any, at: Origin, depth: int) -> Any:
        """The node starting with ``event``; ``at`` becomes a container's own origin."""
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            self.bound(depth)
        kind = event.__class__
        if kind is ScalarEvent:
            tag = event.tag
            if tag is None or tag == "!":
                value = event.value if event.style else plain_scalar(event.value)
            else:
                value = self.tagged(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, self.origin(event))
            return value
        if kind is AliasEvent:
            return self.copy(self.anchor(event)[0], at, depth)
        anchor = event.anchor
        if anchor is not None:
            unfinished = self.anchors[anchor] = _Unfinished()
        if kind is MappingStartEvent:
            value = self.mapping(event, at, depth)
        elif kind is SequenceStartEvent:
            value = self.sequence(event, at, depth)
        else:
            raise self.fail(f"unexpected YAML event {kind.__name__}", event)
        if event.tag == "!reset":
            value = RESET
        if anchor is not None and self.anchors[anchor] is unfinished:  # not redefined inside itself
            self.anchors[anchor] = (value, self.origin(event))
        return value

    def tagged(self, event: Any) -> Any:
        tag = event.tag
        if tag == "!reset":
            return RESET
        if tag == _BINARY_TAG:
            try:
                return b64decode("".join(event.value.split()), validate=True).decode("utf-8", "replace")
            except binascii.Error:
                raise self.fail("!!binary value is not valid base64", event) from None
        try:
            return tagged_scalar(tag, event.value)
        except ValueError as exc:
            raise self.fail(str(exc), event) from None

    def anchor(self, event: Any) -> tuple[Any, Origin]:
        """The value and origin of the anchor an alias names: its latest definition, as in YAML."""
        name = event.anchor
        found = self.anchors.get(name)
        if found is None:
            raise self.syntax(f"found undefined alias {name!r}", event)
        if isinstance(found, _Unfinished):
            raise self.fail(f"alias *{name} is used inside its own anchor (a cycle)", event)
        return found

    def copy(self, value: Any, at: Origin, depth: int) -> Any:
        """A fresh copy of an anchored value: an alias expands to what its anchor holds."""
        if isinstance(value, Map):
            out = Map(at, value.override)
            for key, item in value.items():
                where = value.where[key]
                self.nodes += 1
                self.bound(depth + 1)
                out.put(key, self.copy(item, where, depth + 1), where)
            return out
        if isinstance(value, Seq):
            seq = Seq(at, value.override)
            for item, where in zip(value, value.where, strict=True):
                self.nodes += 1
                self.bound(depth + 1)
                seq.add(self.copy(item, where, depth + 1), where)
            return seq
        if isinstance(value, str):
            self.alias_chars += len(value)
            if self.alias_chars > MAX_ALIAS_CHARS:
                raise InputError(
                    f"document too large after expanding aliases (over {MAX_ALIAS_CHARS} characters)",
                    self.uri,
                )
        return value

    def sequence(self, start: Any, at: Origin, depth: int) -> Seq:
        seq = Seq(at, start.tag == "!override")
        event = self.next()
        while event.__class__ is not SequenceEndEvent:
            if event.__class__ is AliasEvent:
                where = self.anchor(event)[1]
            else:
                where = Origin(_COMPOSE, self.uri, event.start_mark.line + 1)
            seq.add(self.value(event, where, depth + 1), where)
            event = self.next()
        return seq

    def mapping(self, start: Any, at: Origin, depth: int) -> Map:
        out = Map(at, start.tag == "!override")
        where = out.where
        merges: list[tuple[Any, Any]] = []
        merge_line = 0
        event = self.next()
        while event.__class__ is not MappingEndEvent:
            line = event.start_mark.line + 1
            key = self.key(event)
            written = "<<" if key is None else key  # compose compares keys as written, merge keys too
            if written in where or (merge_line and written == "<<"):
                first = where[written].line if written in where else merge_line
                raise self.fail(f"mapping key {written!r} already defined at line {first}", event)
            if key is None:  # a merge key
                merge_line = line
                event = self.next()
                merges.append((self.value(event, at, depth + 1), event))
            else:
                origin = Origin(_COMPOSE, self.uri, line)
                out[key] = self.value(self.next(), origin, depth + 1)
                where[key] = origin
            event = self.next()
        for source, event in merges:
            self.merge(out, source, event)
        return out

    def key(self, event: Any) -> str | None:
        """A mapping key as compose reads it (a string), or ``None`` for a merge key."""
        kind = event.__class__
        if kind is ScalarEvent:
            text = event.value
            tag = event.tag
            if tag is None or tag == "!":
                if event.style:
                    key = text
                elif text == "<<":
                    return None
                else:
                    key = plain_scalar(text)
            elif tag == _MERGE_TAG and text == "<<":
                return None
            else:
                key = self.tagged(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = (key, self.origin(event))
        elif kind is AliasEvent:
            key, _ = self.anchor(event)
            text = f"*{event.anchor}"
        else:
            raise self.fail("a mapping key must be a scalar", event)
        if not isinstance(key, str):
            raise self.fail(f"mapping key {text} is read as {_kind(key)}, not a string (quote it)", event)
        return key

    def merge(self, out: Map, source: Any, event: Any) -> None:
        """Keys of a ``<<`` mapping (or list of mappings) not written in ``out`` itself; the first
        mapping of a list wins, as in compose."""
        sources = (
            list(zip(source, source.where, strict=True)) if isinstance(source, Seq) else [(source, None)]
        )
        for item, where in sources:
            if not isinstance(item, Map):
                line = where.line if where is not None else event.start_mark.line + 1
                raise InputError("a merge key (<<) needs a mapping or a list of mappings", self.uri, line)
            for key, value in item.items():
                if key not in out:
                    out.put(key, value, item.where[key])


def _kind(value: Any) -> str:
    if value is None or value is RESET:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def parse_text(text: str, uri: str, what: str = "compose file") -> Any:
    """Parse YAML text into the positioned tree; every failure is an ``InputError`` (a
    ``YAMLSyntaxError`` when the text is not YAML). ``what`` names the kind of file in messages."""
    try:
        return _Composer(_event_source(text), uri, what).document()
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.problem == "could not find expected ':'" and exc.context_mark is not None:
            mark = exc.context_mark  # the key that lacks its colon, not the end of what was scanned
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if problem == "exceeded maximum nesting depth":  # libyaml's own bound, 1,000 levels
            raise InputError(f"document nested deeper than {MAX_DEPTH} levels", uri, line) from None
        raise YAMLSyntaxError(problem, uri, line) from None
    except YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"YAML error: {first}", uri) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", uri) from None
