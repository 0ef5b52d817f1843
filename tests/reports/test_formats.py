"""``-o`` planning: FORMAT:PATH, extensions, and the mistakes that used to pass silently."""

from __future__ import annotations

import pytest
from auditor.reports.formats import SCAN, registry

from auditor.model.errors import InputError


def test_format_prefix_and_extension():
    assert registry().plan(["sarif:out.txt", "r.json", "./odd:name.json"], SCAN) == [
        ("sarif", "out.txt"),
        ("json", "r.json"),
        ("json", "./odd:name.json"),
    ]


def test_unknown_format_prefix_is_an_error_not_a_file_name():
    with pytest.raises(InputError) as info:
        registry().plan(["bogus:r.json"], SCAN)
    assert str(info.value).startswith("unknown format 'bogus' in output 'bogus:r.json' (choose from ")
    assert str(info.value).endswith("for a file of that name write ./bogus:r.json)")


@pytest.mark.parametrize(
    "outputs",
    [
        ["r.json", "r.json"],
        ["r.json", "./r.json"],
        ["json:r.json", "sarif:r.json"],
        ["a/../r.json", "r.json"],
    ],
)
def test_one_path_given_twice_is_an_error(outputs):
    with pytest.raises(InputError, match="is given twice"):
        registry().plan(outputs, SCAN)
