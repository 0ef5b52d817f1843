"""Scalar typing as compose reads YAML (go-yaml v3's resolver), checked against ``docker-compose``.

YAML 1.2 core schema in the main: ``on``/``yes``/``no`` stay strings, no base-60 numbers, only
``true``/``false`` (three spellings each) are booleans. go-yaml adds to it, and compose with
it: ``017`` is octal (15) as in YAML 1.1, underscores are dropped from numbers (``1_000`` is
1000), ``0b101`` is binary, integers beyond 64 bits become floats, and a number with a leading
zero that is not octal (``08``) is a float. Dates stay strings here (compose makes them
timestamps, which its schema then refuses where it wants text). ``yamltree.py`` types the
scalars of every YAML file it reads this way, waivers files included.

Explicit tags: ``!!str`` makes a string, ``!!int``/``!!float``/``!!bool``/``!!null`` resolve
the text even when quoted and must agree with it (``!!int "12"`` is 12, ``!!bool yes`` is an
error); any other tag (``!custom``) leaves the text a string.
"""

from __future__ import annotations

import re
from typing import Any

_YAML = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
_TIMESTAMP = _YAML + "timestamp"
_INF, _NAN = float("inf"), float("nan")

_WORDS: dict[str, Any] = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    ".nan": _NAN, ".NaN": _NAN, ".NAN": _NAN,
    ".inf": _INF, ".Inf": _INF, ".INF": _INF, "+.inf": _INF, "+.Inf": _INF, "+.INF": _INF,
    "-.inf": -_INF, "-.Inf": -_INF, "-.INF": -_INF,
}  # fmt: skip
_NUMBER_START = frozenset("+-0123456789")
# Go's ParseInt with base 0 (underscores already dropped): 0x, 0o, 0b prefixes, a leading 0 is octal.
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))\Z")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
# Go's ParseFloat on text starting with a dot: underscores only between digits.
_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?\Z")
_INT64 = 2**63
_UINT64 = 2**64


def plain_scalar(text: str) -> Any:
    """An untagged plain (unquoted) scalar: ``None``, bool, int, float or the text itself."""
    if text in _WORDS:
        return _WORDS[text]
    first = text[0]
    if first in _NUMBER_START:
        return _number(text)
    if first == "." and _DOT_FLOAT.match(text):
        value = float(text.replace("_", ""))
        return text if value in (_INF, -_INF) else value
    return text


def _number(text: str) -> Any:
    plain = text.replace("_", "") if "_" in text else text
    match = _GO_INT.match(plain)
    if match:
        sign, hex_, octal, binary, old_octal, decimal = match.groups()
        if decimal is not None:
            value = int(decimal)
        elif hex_ is not None:
            value = int(hex_, 16)
        elif octal is not None:
            value = int(octal, 8)
        elif binary is not None:
            value = int(binary, 2)
        else:
            value = int(old_octal, 8)
        if sign == "-":
            value = -value
        if -_INT64 <= value < _INT64 or (not sign and value < _UINT64):
            return value
    if _YAML_FLOAT.match(plain):
        number = float(plain)
        if number not in (_INF, -_INF):  # Go reports overflow as an error: the text stays a string
            return number
    return text


def _name(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


def tagged_scalar(tag: str, text: str) -> Any:
    """A scalar with an explicit tag (quoted or not); ``ValueError`` when text and tag disagree."""
    if tag in (_STR, _TIMESTAMP):
        return text
    if tag not in (_INT, _FLOAT, _BOOL, _NULL):
        return text  # a tag compose does not resolve (!custom, !override on a scalar): text
    value = plain_scalar(text)
    if tag == _NULL and value is None:
        return None
    if tag == _BOOL and isinstance(value, bool):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if tag == _INT:
            return value
        if tag == _FLOAT and -_INT64 <= value < _INT64:
            return float(value)
    if tag == _FLOAT and isinstance(value, float):
        return value
    raise ValueError(f"YAML value {text!r} cannot be read as {_name(tag)}")
