"""``visible``: control, bidi and line-separator characters from scanned inputs shown escaped."""

from __future__ import annotations

import pytest

from auditor.model.text import visible, visible_lines

UNSAFE = {
    "ESC (colours, clear screen)": ("\x1b[2J", "\\x1b[2J"),
    "OSC window title": ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
    "CR (overwrite the line)": ("ok\rFAIL", "ok\\x0dFAIL"),
    "LF (a second line)": ("a\nb", "a\\x0ab"),
    "TAB": ("a\tb", "a\\x09b"),
    "NUL": ("a\0b", "a\\x00b"),
    "DEL": ("a\x7fb", "a\\x7fb"),
    "C1 CSI": ("a\x9b2Jb", "a\\x9b2Jb"),
    "right-to-left override": ("gnp.\u202eexe", "gnp.\\u202eexe"),
    "left-to-right embedding": ("\u202aa", "\\u202aa"),
    "isolates": ("\u2066a\u2067b\u2068c\u2069", "\\u2066a\\u2067b\\u2068c\\u2069"),
    "marks": ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    "line and paragraph separators": ("a\u2028b\u2029", "a\\u2028b\\u2029"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_characters_are_shown_escaped(case: str) -> None:
    raw, shown = UNSAFE[case]
    assert visible(raw) == shown


def test_ordinary_text_is_unchanged() -> None:
    for text in ("web-1", "Grüße 名前 🐳", "C:\\path\\x1b-as-text", "[::]:80->80/tcp", ""):
        assert visible(text) is text or visible(text) == text


def test_every_control_and_bidi_character_is_escaped() -> None:
    unsafe = [
        chr(c)
        for c in (
            *range(0x20),
            *range(0x7F, 0xA0),
            0x61C,
            0x200E,
            0x200F,
            0x2028,
            0x2029,
            *range(0x202A, 0x202F),
            *range(0x2066, 0x206A),
        )
    ]
    shown = visible("".join(unsafe))
    assert all(ch not in shown for ch in unsafe)
    assert shown.count("\\") == len(unsafe)


def test_visible_lines_keeps_line_feeds_only() -> None:
    assert visible_lines("one\x1b\ntwo\r") == "one\\x1b\ntwo\\x0d"
    assert visible(3) == "3"
