"""The JSON writer (orjson) writes what ``json.dumps(indent=2)`` writes: the same text, but
for the spelling of some floats (``0.00006103515625`` for ``6.103515625e-05``), the same values."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model import jsontext
from auditor.model.jsontext import dumps

EXACT = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text()


def documents(scalars):
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=30,
    )


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(documents(EXACT))
def test_the_same_text_as_the_standard_library(document):
    assert dumps(document) == json.dumps(document, indent=2)
    assert dumps(document, sort_keys=True) == json.dumps(document, indent=2, sort_keys=True)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(documents(EXACT | st.floats(allow_nan=False, allow_infinity=False)))
def test_the_same_values_with_floats(document):
    assert json.loads(dumps(document)) == document
    assert dumps(document).isascii()


def test_bidi_controls_and_astral_characters_are_escaped():
    text = dumps({"name": "cod\u202eexe.\x1b]0;t\x07\x9b😀"})
    assert (
        text.isascii()
        and "\\u202e" in text
        and "\\u001b" in text
        and "\\u009b" in text
        and "\\ud83d\\ude00" in text
    )


def _wrapped(encoding: str) -> tuple[io.BytesIO, io.TextIOWrapper]:
    raw = io.BytesIO()
    return raw, io.TextIOWrapper(raw, encoding=encoding, newline="")


def test_write_gives_the_text_of_dumps_and_a_newline_on_every_kind_of_stream():
    doc = {"name": "web", "ports": [80, 443], "nested": {"a": None}}
    text = io.StringIO()  # no binary buffer: the text itself
    jsontext.write(doc, text)
    assert text.getvalue() == jsontext.dumps(doc) + "\n"
    raw, stream = _wrapped("utf-8")  # bytes straight to the buffer, after what the text layer held
    stream.write("before\n")
    jsontext.write(doc, stream)
    stream.write("after\n")
    stream.flush()
    assert raw.getvalue() == ("before\n" + jsontext.dumps(doc) + "\nafter\n").encode()


def test_write_escapes_non_ascii_and_honours_a_stream_that_is_not_ascii_compatible():
    doc = {"name": "caf\u00e9 \u202e"}
    raw, stream = _wrapped("utf-8")
    jsontext.write(doc, stream)
    stream.flush()
    assert raw.getvalue() == (jsontext.dumps(doc) + "\n").encode()
    assert b"\\u00e9" in raw.getvalue() and b"\\u202e" in raw.getvalue()
    raw, stream = _wrapped("utf-16")
    jsontext.write({"a": 1}, stream)
    stream.flush()
    assert raw.getvalue().decode("utf-16") == jsontext.dumps({"a": 1}) + "\n"
