"""Text a scanned input chose, made safe to show: control and bidi characters visibly escaped.

Service, container, network and directory names, waiver reasons and owners reach terminals,
CI logs and rendered reports. Raw, an ESC or OSC sequence clears the screen, recolours the log
or sets the window title; a CR overwrites the line; a right-to-left override (U+202E) makes
``cod.exe`` look like ``exe.doc`` and reorders a report's sentence. ``visible`` shows each such
character as an escape (``\\x1b``, ``\\u202e``), so what is printed is what was written, and
nothing is hidden or acted on. One function, used by every human-facing output.
"""

from __future__ import annotations

import re

# C0 controls (TAB, LF and CR included: one finding, one line), DEL and C1 controls;
# bidirectional embeddings, overrides, isolates and marks; the line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with every control, bidi and line-separator character shown as an escape."""
    value = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_escape, value) if _UNSAFE.search(value) else value


def visible_lines(text: object) -> str:
    """Like ``visible`` but keeps line feeds, for multi-line text a format lays out itself
    (a Markdown cell, an XML element): every other control and bidi character is escaped."""
    value = text if isinstance(text, str) else str(text)
    return "\n".join(visible(line) for line in value.split("\n"))
