"""Compose variable interpolation and ``.env`` files.

Supports ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
``${VAR?error}``, ``${VAR:+replacement}``, ``${VAR+replacement}`` (defaults nest) and ``$$``
for a literal dollar, as Docker Compose does. Only values are interpolated, never keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.yamltree import Map, Seq

Lookup = Callable[[str], str | None]

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_BRACED = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-?+])(.*))?\Z", re.DOTALL)


class TemplateError(ValueError):
    """An interpolation failed: invalid template or a required variable without a value."""


MAX_NESTING = 32  # ${A:-${B:-...}} levels; compose files never come close


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` at ``start``, counting nested ``${``.

    Jumps between braces with ``str.find`` (each position is passed once)."""
    depth = 0
    i = start
    next_open = text.find("${", i)
    while True:
        close = text.find("}", i)
        if close < 0:
            return -1
        if 0 <= next_open < close:
            depth += 1
            i = next_open + 2
            next_open = text.find("${", i)
            continue
        depth -= 1
        i = close + 1
        if depth == 0:
            return close


@dataclass
class Unresolved:
    """What interpolation of a project could not resolve, as compose would report it.

    ``unset``: variables used without a default and not set (compose warns and uses "");
    ``required``: ``${VAR:?}`` variables without a value (compose refuses the project; we audit
    with "" and mark the project incomplete). Kept in first-seen order, each once."""

    unset: dict[str, None] = field(default_factory=dict)
    required: dict[str, str] = field(default_factory=dict)  # name -> "file:line: message"


def substitute(text: str, lookup: Lookup, depth: int = 0, unresolved: Unresolved | None = None) -> str:
    """Interpolate one string value."""
    if "$" not in text:
        return text
    if depth > MAX_NESTING:
        raise TemplateError(f"interpolation nested deeper than {MAX_NESTING} levels")
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        dollar = text.find("$", i)
        if dollar < 0 or dollar + 1 >= n:
            out.append(text[i:])
            break
        out.append(text[i:dollar])
        i = dollar
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i)
            if end < 0:
                raise TemplateError(f"invalid interpolation format for {_shown(text)}: missing closing brace")
            out.append(_braced(text[i + 2 : end], text, lookup, depth, unresolved))
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            if match is None:
                out.append("$")
                i += 1
            else:
                value = lookup(match.group())
                if value is None and unresolved is not None:
                    unresolved.unset.setdefault(match.group(), None)
                out.append(value or "")
                i = match.end()
    return "".join(out)


def _shown(text: str) -> str:
    """A value as error messages quote it: short, so a huge value is not echoed whole."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _braced(inner: str, whole: str, lookup: Lookup, depth: int, unresolved: Unresolved | None = None) -> str:
    match = _BRACED.match(inner)
    if match is None:
        raise TemplateError(f"invalid interpolation format for {_shown(whole)}: {_shown('${' + inner + '}')}")
    name, op, arg = match.group(1), match.group(2), match.group(3) or ""
    value = lookup(name)
    if op is None:
        if value is None and unresolved is not None:
            unresolved.unset.setdefault(name, None)
        return value or ""
    unset = value is None
    empty = unset or value == ""
    missing = empty if op.startswith(":") else unset
    kind = op[-1]
    if kind == "-":
        return substitute(arg, lookup, depth + 1, unresolved) if missing else (value or "")
    if kind == "?":
        if missing:
            detail = substitute(arg, lookup, depth + 1, unresolved)
            message = f"required variable {name} is missing a value" + (f": {detail}" if detail else "")
            if unresolved is None:
                raise TemplateError(message)
            unresolved.required.setdefault(name, message)
            return ""
        return value or ""
    # "+": the replacement when set (and non-empty for ":+")
    return "" if missing else substitute(arg, lookup, depth + 1, unresolved)


def interpolate_tree(node: Any, lookup: Lookup, unresolved: Unresolved | None = None) -> Any:
    """Interpolate every string value of a positioned tree, in place; errors carry the line."""
    if isinstance(node, Map):
        for key in list(node):
            node[key] = _value(node[key], lookup, node, key, unresolved)
    elif isinstance(node, Seq):
        for index in range(len(node)):
            node[index] = _value(node[index], lookup, node, index, unresolved)
    return node


class Interpolated(str):
    """A value that interpolation changed, remembering how it was written, so an error about
    it quotes ``${DB_PASSWORD}:80`` and never the value, which may come from ``.env``."""

    template: str

    def __new__(cls, value: str, template: str) -> Interpolated:
        made = super().__new__(cls, value)
        made.template = template
        return made


def as_written(value: Any) -> Any:
    """``value`` with every interpolated string replaced by its template (for messages)."""
    if isinstance(value, Interpolated):
        return value.template
    if isinstance(value, dict):
        return {k: as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_written(v) for v in value]
    return value


def came_from_variables(value: Any) -> bool:
    if isinstance(value, dict):
        return any(came_from_variables(v) for v in value.values())
    if isinstance(value, list):
        return any(came_from_variables(v) for v in value)
    return isinstance(value, Interpolated)


def _value(value: Any, lookup: Lookup, parent: Map | Seq, where: Any, unresolved: Unresolved | None) -> Any:
    if isinstance(value, str):
        before = len(unresolved.required) if unresolved is not None else 0
        try:
            text = substitute(value, lookup, 0, unresolved)
        except TemplateError as exc:
            origin = parent.at(where)
            raise InputError(str(exc), origin.uri, origin.line) from None
        if unresolved is not None and len(unresolved.required) > before:
            origin = parent.at(where)
            name = list(unresolved.required)[-1]
            unresolved.required[name] = f"{origin.uri}:{origin.line}: {unresolved.required[name]}"
        return Interpolated(text, value) if text != value else text
    return interpolate_tree(value, lookup, unresolved)


# --- .env files -------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*([=:])\s?(.*)\Z", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def parse_env_text(text: str, uri: str, outer: Mapping[str, str]) -> dict[str, str]:
    """Variables from a ``.env`` file; values may refer to the environment and earlier lines."""
    values: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        return values.get(name, outer.get(name))

    lines = text.splitlines()
    index = 0
    while index < len(lines):
        raw = lines[index]
        line_no = index + 1
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(raw)
        if match is None:
            if _NAME.fullmatch(stripped):
                continue  # a bare name: take it from the environment, as compose does
            raise InputError(f"invalid line in env file: {stripped[:60]!r}", uri, line_no)
        key, rest = match.group(1), match.group(3).strip()
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            parts = [rest[1:]]
            end, escaped = _quote_end(parts[0], quote, False)
            while end < 0 and index < len(lines):  # a quoted value may span lines
                parts.append("\n" + lines[index])
                index += 1
                end, escaped = _quote_end(parts[-1], quote, escaped)
            if end < 0:
                raise InputError(f"unterminated quoted value for {key}", uri, line_no)
            content = "".join(parts[:-1]) + parts[-1][:end]
            if quote == "'":
                values[key] = content
                continue
            content = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), content)
        else:
            content = re.split(r"\s+#", rest, maxsplit=1)[0].strip()
        try:
            values[key] = substitute(content, lookup)
        except TemplateError as exc:
            raise InputError(str(exc), uri, line_no) from None
    return values


def _quote_end(segment: str, quote: str, escaped: bool) -> tuple[int, bool]:
    """Index of the closing quote in ``segment`` (-1 if none) and whether the segment ends in
    an escape that applies to the next one. Each segment is scanned once: linear in the file."""
    i = 1 if escaped else 0
    while i < len(segment):
        char = segment[i]
        if char == "\\" and quote == '"':
            i += 2
            continue
        if char == quote:
            return i, False
        i += 1
    return -1, i > len(segment)


def read_env_file(path: Path, uri: str, outer: Mapping[str, str]) -> dict[str, str]:
    """An env file through the bounded reader: a FIFO, a device or a huge file is refused."""
    return parse_env_text(inputs.read_text(path, "env file", inputs.ENV_LIMIT, shown=uri), uri, outer)
