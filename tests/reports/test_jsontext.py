"""The JSON writer (orjson) writes what ``json.dumps(indent=2)`` writes: the same text, but
for the spelling of some floats (``0.00006103515625`` for ``6.103515625e-05``), the same values."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

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
