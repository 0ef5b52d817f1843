"""JSON text for every output, written by orjson (a 30,000-finding result in a tenth of the
time of the standard library's encoder), with the standard library's safe spelling kept:
indent 2 and every non-ASCII character escaped (``\\u00e9``; astral characters as surrogate
pairs), so a bidi override or a C1 control in a scanned name never reaches a terminal raw and
the bytes are those ``json.dumps(..., indent=2)`` writes. ``loads`` reads large dumps (nft
rulesets, ``ip -j`` output) in C with the standard library's results.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import IO, Any

import orjson

_NON_ASCII = re.compile("[^\x00-\x7e]")  # DEL too, as the standard library escapes it


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _encoded(document: Any, sort_keys: bool) -> tuple[bytes, bool]:
    """orjson's bytes of ``document`` and whether they are already the safe spelling."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    data = orjson.dumps(document, option=option)
    return data, data.isascii() and b"\x7f" not in data  # in C: a regex search took longer than orjson


def _text(data: bytes, safe: bool) -> str:
    """``_encoded``'s bytes as text in the safe spelling."""
    if safe:  # the usual case
        return data.decode("ascii")
    return _NON_ASCII.sub(_escape, data.decode())


def dumps(document: Any, sort_keys: bool = False) -> str:
    """``document`` as indented JSON text (no trailing newline)."""
    return _text(*_encoded(document, sort_keys))


def write(document: Any, stream: IO[str], sort_keys: bool = False) -> None:
    """``dumps(document)`` and a newline written to ``stream``: the bytes as orjson made them
    to the stream's binary buffer when it has one in an ASCII-compatible encoding (a scan's
    result is megabytes: decoding, copying and encoding them again took longer than the rest
    of the writing), else the text."""
    data, safe = _encoded(document, sort_keys)
    buffer = getattr(stream, "buffer", None)
    if safe and buffer is not None and _ascii_compatible(getattr(stream, "encoding", None)):
        stream.flush()  # what the text layer holds goes first
        buffer.write(data + b"\n")
        return
    stream.write(_text(data, safe) + "\n")


def _ascii_compatible(encoding: str | None) -> bool:
    try:
        return encoding is not None and codecs.lookup(encoding).name in ("utf-8", "ascii", "iso8859-1")
    except LookupError:
        return False


def loads(text: str | bytes) -> Any:
    """``json.loads`` in C: orjson reads the document; what orjson refuses and the standard
    library takes (integers beyond 64 bits, NaN, lone surrogates) is read by the standard
    library, so values and errors are always the standard library's."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
