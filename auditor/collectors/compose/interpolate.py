"""Compose variable interpolation and ``.env`` files.

Supports ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
``${VAR?error}``, ``${VAR:+replacement}``, ``${VAR+replacement}`` (defaults nest) and ``$$``
for a literal dollar, as Docker Compose does. Only values are interpolated, never keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.errors import InputError

from .tree import Map, Seq

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


def substitute(text: str, lookup: Lookup, depth: int = 0) -> str:
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
            out.append(_braced(text[i + 2 : end], text, lookup, depth))
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            if match is None:
                out.append("$")
                i += 1
            else:
                out.append(lookup(match.group()) or "")
                i = match.end()
    return "".join(out)


def _shown(text: str) -> str:
    """A value as error messages quote it: short, so a huge value is not echoed whole."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _braced(inner: str, whole: str, lookup: Lookup, depth: int) -> str:
    match = _BRACED.match(inner)
    if match is None:
        raise TemplateError(f"invalid interpolation format for {_shown(whole)}: {_shown('${' + inner + '}')}")
    name, op, arg = match.group(1), match.group(2), match.group(3) or ""
    value = lookup(name)
    if op is None:
        return value or ""
    unset = value is None
    empty = unset or value == ""
    missing = empty if op.startswith(":") else unset
    kind = op[-1]
    if kind == "-":
        return substitute(arg, lookup, depth + 1) if missing else (value or "")
    if kind == "?":
        if missing:
            detail = substitute(arg, lookup, depth + 1)
            raise TemplateError(f"required variable {name} is missing a value" + (f": {detail}" if detail else ""))
        return value or ""
    # "+": the replacement when set (and non-empty for ":+")
    return "" if missing else substitute(arg, lookup, depth + 1)


def interpolate_tree(node: Any, lookup: Lookup) -> Any:
    """Interpolate every string value of a positioned tree, in place; errors carry the line."""
    if isinstance(node, Map):
        for key in list(node):
            node[key] = _value(node[key], lookup, node, key)
    elif isinstance(node, Seq):
        for index in range(len(node)):
            node[index] = _value(node[index], lookup, node, index)
    return node


def _value(value: Any, lookup: Lookup, parent: Map | Seq, where: Any) -> Any:
    if isinstance(value, str):
        try:
            return substitute(value, lookup)
        except TemplateError as exc:
            origin = parent.at(where)
            raise InputError(str(exc), origin.uri, origin.line) from None
    return interpolate_tree(value, lookup)


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
