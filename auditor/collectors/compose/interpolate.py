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

from auditor.errors import InputError

from .tree import Map, Seq

Lookup = Callable[[str], str | None]

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_BRACED = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-?+])(.*))?\Z", re.DOTALL)


class TemplateError(ValueError):
    """An interpolation failed: invalid template or a required variable without a value."""


@dataclass
class Unresolved:
    """What interpolation of a project could not resolve, as compose would report it.

    ``unset``: variables used without a default and not set (compose warns and uses "");
    ``required``: ``${VAR:?}`` variables without a value (compose refuses the project; we audit
    with "" and mark the project incomplete). Kept in first-seen order, each once."""

    unset: dict[str, None] = field(default_factory=dict)
    required: dict[str, str] = field(default_factory=dict)  # name -> "file:line: message"


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` at ``start``, counting nested ``${``."""
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def substitute(text: str, lookup: Lookup, unresolved: Unresolved | None = None) -> str:
    """Interpolate one string value; with ``unresolved``, a required variable without a value
    is recorded there (and replaced by "") instead of raising."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char != "$" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i)
            if end < 0:
                raise TemplateError(f"invalid interpolation format for {text!r}: missing closing brace")
            out.append(_braced(text[i + 2 : end], text, lookup, unresolved))
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


def _braced(inner: str, whole: str, lookup: Lookup, unresolved: Unresolved | None) -> str:
    match = _BRACED.match(inner)
    if match is None:
        raise TemplateError(f"invalid interpolation format for {whole!r}: ${{{inner}}}")
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
        return substitute(arg, lookup, unresolved) if missing else (value or "")
    if kind == "?":
        if missing:
            detail = substitute(arg, lookup, unresolved)
            message = f"required variable {name} is missing a value" + (f": {detail}" if detail else "")
            if unresolved is None:
                raise TemplateError(message)
            unresolved.required.setdefault(name, message)
            return ""
        return value or ""
    # "+": the replacement when set (and non-empty for ":+")
    return "" if missing else substitute(arg, lookup, unresolved)


def interpolate_tree(node: Any, lookup: Lookup, unresolved: Unresolved | None = None) -> Any:
    """Interpolate every string value of a positioned tree, in place; errors carry the line."""
    if isinstance(node, Map):
        for key in list(node):
            node[key] = _value(node[key], lookup, node, key, unresolved)
    elif isinstance(node, Seq):
        for index in range(len(node)):
            node[index] = _value(node[index], lookup, node, index, unresolved)
    return node


def _value(value: Any, lookup: Lookup, parent: Map | Seq, where: Any, unresolved: Unresolved | None) -> Any:
    if isinstance(value, str):
        before = len(unresolved.required) if unresolved is not None else 0
        try:
            text = substitute(value, lookup, unresolved)
        except TemplateError as exc:
            origin = parent.at(where)
            raise InputError(str(exc), origin.uri, origin.line) from None
        if unresolved is not None and len(unresolved.required) > before:
            origin = parent.at(where)
            name = list(unresolved.required)[-1]
            unresolved.required[name] = f"{origin.uri}:{origin.line}: {unresolved.required[name]}"
        return text
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
            body = rest[1:]
            while quote not in _unescaped_tail(body, quote) and index < len(lines):
                body += "\n" + lines[index]
                index += 1
            end = _quote_end(body, quote)
            if end < 0:
                raise InputError(f"unterminated quoted value for {key}", uri, line_no)
            content = body[:end]
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


def _unescaped_tail(body: str, quote: str) -> str:
    return quote if _quote_end(body, quote) >= 0 else ""


def _quote_end(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def read_env_file(path: Path, uri: str, outer: Mapping[str, str]) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("env file not found", uri) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read env file: {getattr(exc, 'strerror', None) or exc}", uri) from None
    return parse_env_text(text, uri, outer)
