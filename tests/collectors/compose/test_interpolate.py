"""Interpolation forms and ``.env`` parsing, with exact results."""

from __future__ import annotations

import pytest

from auditor.collectors.compose.interpolate import TemplateError, parse_env_text, substitute
from auditor.model.errors import InputError

ENV = {"SET": "value", "EMPTY": "", "PORT": "8080"}


def look(name: str) -> str | None:
    return ENV.get(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET", "value"),
        ("$SET.x", "value.x"),
        ("${UNSET}", ""),
        ("${UNSET:-d}", "d"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${SET:-d}", "value"),
        ("${SET:+r}", "r"),
        ("${EMPTY:+r}", ""),
        ("${EMPTY+r}", "r"),
        ("${UNSET+r}", ""),
        ("${UNSET:-${PORT}}", "8080"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("$$SET", "$SET"),
        ("$${SET}", "${SET}"),
        ("cost: 5$", "cost: 5$"),
        ("a $ b", "a $ b"),
        ("127.0.0.1:${PORT}:80", "127.0.0.1:8080:80"),
    ],
)
def test_substitution(text: str, expected: str) -> None:
    assert substitute(text, look) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${UNSET:?must be set}", "required variable UNSET is missing a value: must be set"),
        ("${EMPTY:?}", "required variable EMPTY is missing a value"),
        ("${UNSET?gone}", "required variable UNSET is missing a value: gone"),
        ("${PORT", "missing closing brace"),
        ("${1BAD}", "invalid interpolation format"),
        ("${}", "invalid interpolation format"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        substitute(text, look)


def test_empty_with_question_mark_only_checks_unset() -> None:
    assert substitute("${EMPTY?x}", look) == ""


def test_env_file_forms() -> None:
    text = "\n".join(
        [
            "# comment",
            "A=1",
            "export B=two",
            "C='single ${A}'",
            'D="double ${A}\\n"',
            "E=unquoted # trailing comment",
            "F=${A}-${OUTER}",
            "G: yaml-style",
            'H="multi',
            'line"',
            "",
        ]
    )
    values = parse_env_text(text, ".env", {"OUTER": "o"})
    assert values == {
        "A": "1",
        "B": "two",
        "C": "single ${A}",
        "D": "double 1\n",
        "E": "unquoted",
        "F": "1-o",
        "G": "yaml-style",
        "H": "multi\nline",
    }


def test_env_file_errors_carry_the_line() -> None:
    with pytest.raises(InputError) as err:
        parse_env_text("A=1\nnot a valid line\n", "sub/.env", {})
    assert str(err.value) == "sub/.env:2: invalid line in env file: 'not a valid line'"
    with pytest.raises(InputError) as err:
        parse_env_text("A=1\nB=${X:?needed}\n", ".env", {})
    assert (err.value.path, err.value.line) == (".env", 2)


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ('"${DB_PASSWORD}:80"', "invalid ports entry '${DB_PASSWORD}:80'"),
        (
            "{target: 80, published: '${DB_PASSWORD}'}",
            "invalid ports entry {'target': 80, 'published': '${DB_PASSWORD}'}",
        ),
    ],
)
def test_errors_quote_templates_not_values_from_env(tmp_path, entry, shown):
    """A .env value used as a port must not be echoed into reports and the history store."""
    from auditor.collectors.compose import ProjectSpec, load_project

    (tmp_path / ".env").write_text("DB_PASSWORD=hunter2\n")
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  web:\n    image: nginx\n    ports:\n      - {entry}\n"
    )
    with pytest.raises(InputError) as info:
        load_project(ProjectSpec((tmp_path / "compose.yaml",), tmp_path), environ={})
    assert "hunter2" not in str(info.value)
    assert str(info.value) == (
        f"compose.yaml:5: service web: {shown} (after interpolation; the variables' values are not shown)"
    )


def test_interpolated_values_are_plain_strings_to_everything_else():
    from auditor.collectors.compose.interpolate import Interpolated, as_written

    value = Interpolated("8080:80", "${PORT}:80")
    assert value == "8080:80" and isinstance(value, str) and hash(value) == hash("8080:80")
    assert as_written({"a": [value, "x"]}) == {"a": ["${PORT}:80", "x"]}
