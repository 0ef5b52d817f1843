"""YAML typing and syntax corners: our reader and ``docker-compose config`` read the same values.

Every accepted case is the value of a key under an ``x-probe`` extension, which compose prints
back typed as it read it (JSON: string, number, boolean, null); all of them share one file so
the oracle runs once. Infinity and NaN have no JSON form: that group is printed as YAML.
Rejected cases get a file each: compose and our reader must both refuse them.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.model.errors import InputError
from auditor.model.yamltree import Map, Seq, parse_text

from .oracle import cli_facts, compose_binary, our_facts, ours_or_error, run_cli

# YAML text of one value -> what it means (both readers must agree with compose on each).
VALUES: list[str] = [
    # numbers: go-yaml's resolver, not YAML 1.2's core schema alone
    "017", "0o17", "0O17", "-017", "+017", "007", "0777", "08", "09", "08.5", "0",
    "-0", "00", "1_000", "1__0", "1_", "_1", "0x_1F", "0x1F", "0X1F", "-0x1F", "+0x1F",
    "0b101", "0B11", "-0b101", "0b_1", "0b2", "0o8", "0x", "0x1G", "1e3", "1E3", "1e+3",
    "1.5e3", "1_0.5", ".5", ".5_0", "0.1_5", "1e5_0", "1_e5", "1.", "0.", "+0.0", "+.5",
    "-.5e3", "1e", ".e5", "._5", "1,000", "0.5.1", "1e400", ".5e400",
    "9223372036854775807", "9_223_372_036_854_775_807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "+9223372036854775808",
    "18446744073709551615", "18446744073709551616", "0x1p3",
    # words: YAML 1.2 booleans and nulls only
    "on", "off", "yes", "no", "Yes", "NO", "y", "n", "true", "True", "TRUE", "tRUE",
    "false", "FALSE", "null", "Null", "NULL", "nULL", "~", "''", "+", "-a", ".",
    "12:30:45", "1:20", "22:22", "<<",
    # quoting and explicit tags
    '"017"', "'1_000'", '"true"', "!!str 1000", "!!str true", "!!str 0x1F", '!!str "1000"',
    '!!int "12"', '!!int "0x1F"', "!!int 1_000", "!!int 017", "!!float 1", '!!float "1.5"',
    "!!float '1e3'", "!!float 0x1F", "!!float 1_0", '!!bool "true"', '!!null ""', "!!str",
    "! 017", '! "017"', "!custom 5", '!custom "5"', "!override 5", "!!merge x",
    "!<tag:yaml.org,2002:str> 12", "!!binary aGk=", "!!map {a: 1}", "!!seq [1]", "!!str [1]",
    # YAML 1.1 scanning, as go-yaml (a libyaml port) does it
    "{a: unix:///x}", "{x:y}", "[a:b, c]", "http://example.test:8080/",
    '"a\\x85b"', '"a\\u2028b"', "a\tb", '"x\ty"', "{b:\tc}", "[a,\tb]", '\t"q"', "\t[1]", "b\t# c",
    # anchors, aliases and merge keys
    "{<<: {a: 1}, b: 2}", "{a: 1, <<: {a: 2, b: 3}}", "{<<: [{a: 1}, {a: 2, b: 3}]}",
    "{<<: [{a: 1, b: 1}, {b: 2}], b: 3}", "{<<: [], a: 1}", '{"<<": {a: 1}}', "{! <<: {a: 1}}",
    '{!!merge "<<": {a: 1}}', "{!!str 1: a}", "[&a 1, *a, &a 2, *a]", "[&m {k: v}, *m]",
    "{a: &a [&a 1, *a], b: *a}", "{a: &a {x: &a 2}, b: *a}", "{a: &a {x: 1}, b: {<<: *a, y: 2}, c: *a}",
]  # fmt: skip

SPECIAL_FLOATS: list[str] = [".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.Inf", ".nan", ".NaN", ".NAN"]

# Whole documents compose reads, and so must we.
DOCUMENTS: dict[str, str] = {
    "tab after a colon": "services:\n  a:\n    image:\tx\n",
    "tabs after a colon and a value": "services:\n  a:\n    image: \tx\t\n    ports:\t['80:80']\t# c\n",
    "NEL as a line break": "services:\n  a:\n    image: x\x85    ports: ['80:80']\n",
    "CR line breaks": "services:\r  a:\r    image: x\r    ports: ['80:80']\r",
    "anchors redefined": "x-a: &a 1\nx-b: &a 2\nx-c: *a\nservices: {a: {image: x}}\n",
    "literal block keeps its text": "x-probe: |\n  017\n  on\nservices: {a: {image: x}}\n",
    "document end marker": "services: {a: {image: x}}\n...\n",
    "BOM": "\ufeffservices: {a: {image: x}}\n",
}

# Refused by both; the line our error names (the file's first four lines: a service, x-probe).
REJECTED: dict[str, tuple[str, int]] = {
    "!!bool on a word": ("x-probe: !!bool yes\n", 4),
    "!!int on a float": ("x-probe: !!int 1.5\n", 4),
    "!!null on text": ("x-probe: !!null x\n", 4),
    "!!int on text": ('x-probe: !!int "abc"\n', 4),
    "number as a key": ("x-probe: {80: a}\n", 4),
    "octal number as a key": ("x-probe: {017: a}\n", 4),
    "null as a key": ("x-probe: {~: a}\n", 4),
    "boolean as a key": ("x-probe: {true: a}\n", 4),
    "float as a key": ("x-probe: {1.5: a}\n", 4),
    "list as a key": ("x-probe: {[a]: b}\n", 4),
    "duplicate key, quoted and plain": ("x-probe: {a: 1, 'a': 2}\n", 4),
    "two merge keys": ("x-probe: {<<: {a: 1}, <<: {b: 2}}\n", 4),
    "merge key and quoted <<": ('x-probe: {<<: {a: 1}, "<<": 2}\n', 4),
    "merge of a scalar": ("x-probe: {<<: 5}\n", 4),
    "merge of a list of scalars": ("x-probe: {<<: [5]}\n", 4),
    "merge of null": ("x-probe: {<<: ~}\n", 4),
    "undefined alias": ("x-probe: *nowhere\n", 4),
    "alias before its anchor": ("x-probe: [*b, &b 1]\n", 4),
    "alias inside its own anchor": ("x-probe: &a [*a]\n", 4),
    "NEL inside a plain scalar": ("x-probe: a\x85b\n", 5),
    "LS inside a plain scalar": ("x-probe: a\u2028b\n", 5),
    "LS inside a literal block": ("x-probe: |\n  a\u2028b\n", 6),
    "tab as indentation": ("x-probe:\n\ta: b\n", 5),
    "tab after a dash": ("x-probe:\n  - \tx\n", 5),
    "tab after a question mark": ("x-probe:\n  ? \tx\n", 5),
    "tab indenting a literal block": ("x-probe: |\n\t  x\n", 5),
    "!!binary that is not base64": ("x-probe: !!binary '*'\n", 4),
}

# Read differently by PyYAML's pure-Python fallback: a tab inside a plain scalar ends it there.
PURE_PYTHON_DIFFERS = {"a\tb"}

SERVICE = "services:\n  a:\n    image: x\n"


@pytest.fixture(params=["libyaml", "pure-python"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Our reader on PyYAML's C parser, and on its pure-Python fallback (no C extension)."""
    if request.param == "pure-python":
        monkeypatch.setitem(sys.modules, "yaml._yaml", None)
    return request.param


def plain(value: Any) -> Any:
    """The positioned tree as plain JSON-like data."""
    if isinstance(value, Map):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Seq):
        return [plain(v) for v in value]
    return value


def same(ours: Any, theirs: Any) -> bool:
    """Equal and of the same kind: strings, booleans and numbers are never mixed up."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(ours, (str, bool)) or isinstance(theirs, (str, bool)) or ours is None or theirs is None:
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        # compose prints a float in its shortest form: 1e20 as 100000000000000000000
        return float(ours) == float(theirs)
    return False


def probe_file(values: list[str]) -> str:
    return SERVICE + "x-probe:\n" + "".join(f"  c{i}: {text}\n" for i, text in enumerate(values))


def compose_yaml(directory: Path) -> str:
    """``docker-compose config --format yaml``: the only output that can show infinity and NaN."""
    proc = subprocess.run(
        [str(compose_binary()), "-f", "compose.yaml", "config", "--format", "yaml"],
        cwd=directory, env={"PATH": "/usr/bin:/bin", "HOME": str(directory)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_scalars_typed_like_compose(tmp_path: Path, reader: str) -> None:
    values = [v for v in VALUES if reader == "libyaml" or v not in PURE_PYTHON_DIFFERS]
    text = probe_file(values)
    (tmp_path / "compose.yaml").write_text(text)
    cli = run_cli(tmp_path, ["compose.yaml"])
    assert cli.ok, cli.stderr
    theirs = cli.config["x-probe"]
    ours = plain(parse_text(text, "compose.yaml"))["x-probe"]
    assert ours.keys() == theirs.keys()
    mismatched = [
        (values[i], ours[f"c{i}"], theirs[f"c{i}"])
        for i in range(len(values))
        if not same(ours[f"c{i}"], theirs[f"c{i}"])
    ]
    assert mismatched == []


def test_infinity_and_nan_like_compose(tmp_path: Path, reader: str) -> None:
    text = probe_file(SPECIAL_FLOATS)
    (tmp_path / "compose.yaml").write_text(text)
    printed = compose_yaml(tmp_path).split("x-probe:\n", 1)[1]
    theirs = dict(line.strip().split(": ", 1) for line in printed.splitlines()[: len(SPECIAL_FLOATS)])
    ours = plain(parse_text(text, "compose.yaml"))["x-probe"]
    for i, value in enumerate(ours.values()):
        assert isinstance(value, float)
        expected = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
        assert (SPECIAL_FLOATS[i], theirs[f"c{i}"]) == (SPECIAL_FLOATS[i], expected)


@pytest.mark.parametrize("case", list(DOCUMENTS), ids=list(DOCUMENTS))
def test_documents_read_like_compose(tmp_path: Path, case: str, reader: str) -> None:
    text = DOCUMENTS[case]
    (tmp_path / "compose.yaml").write_text(text, newline="")
    cli = run_cli(tmp_path, ["compose.yaml"])
    assert cli.ok, cli.stderr
    ours = plain(parse_text(text.removeprefix("\ufeff"), "compose.yaml"))
    assert {k: v for k, v in ours.items() if k.startswith("x-")} == {
        k: v for k, v in cli.config.items() if k.startswith("x-")
    }
    assert ours["services"]["a"]["image"] == cli.config["services"]["a"]["image"]
    assert [p["target"] for p in cli.config["services"]["a"].get("ports", [])] == (
        [80] if "ports" in ours["services"]["a"] else []
    )


@pytest.mark.parametrize("case", list(REJECTED), ids=list(REJECTED))
def test_rejected_by_both(tmp_path: Path, case: str, reader: str) -> None:
    body, line = REJECTED[case]
    text = SERVICE + body
    (tmp_path / "compose.yaml").write_text(text, newline="")
    cli = run_cli(tmp_path, ["compose.yaml"])
    assert not cli.ok, f"compose accepted it: {json.dumps(cli.config.get('x-probe'))}"
    with pytest.raises(InputError) as err:
        parse_text(text, "compose.yaml")
    assert err.value.path == "compose.yaml"
    assert err.value.line == line


# Typing corners where a service's ports depend on them: the same bindings as compose, or both refuse.
PORT_FILES: dict[str, str] = {
    "octal, hex, binary and underscores": "ports: [017, 0o21, 0x50, 0b1010001, 1_000, !!str 8080, !custom 81]",
    "long syntax with typed fields": 'ports: [{target: !!int "82", published: !!str 8082}, {target: 0x53, published: 0x1F93}]',
    "long syntax with underscores": "ports: [{target: 84, published: 1_084}, {target: 85, published: 0o2105}]",
    "expose as numbers": "expose: [0x50, 1_000, 017]",
}
PORT_FILES_REJECTED: dict[str, str] = {
    "08 is a float": "ports: [08]",
    "1e3 is a float": "ports: [{target: 80, published: 1e3}]",
    "a port number as a key": "ports: [{80: target}]",
}


@pytest.mark.parametrize("case", list(PORT_FILES), ids=list(PORT_FILES))
def test_typed_ports_like_compose(tmp_path: Path, case: str, reader: str) -> None:
    (tmp_path / "compose.yaml").write_text(f"{SERVICE}    {PORT_FILES[case]}\n")
    cli = run_cli(tmp_path, ["compose.yaml"])
    assert cli.ok, cli.stderr
    ours = ours_or_error(tmp_path, ["compose.yaml"])
    assert not isinstance(ours, InputError), str(ours)
    assert our_facts(ours) == cli_facts(cli.config)


@pytest.mark.parametrize("case", list(PORT_FILES_REJECTED), ids=list(PORT_FILES_REJECTED))
def test_typed_ports_rejected_by_both(tmp_path: Path, case: str, reader: str) -> None:
    (tmp_path / "compose.yaml").write_text(f"{SERVICE}    {PORT_FILES_REJECTED[case]}\n")
    assert not run_cli(tmp_path, ["compose.yaml"]).ok
    ours = ours_or_error(tmp_path, ["compose.yaml"])
    assert isinstance(ours, InputError)
    assert (ours.path, ours.line) == ("compose.yaml", 4)


def test_known_difference_colon_before_comma_in_flow(tmp_path: Path) -> None:
    """libyaml refuses ``x:`` followed by ``,`` in a flow collection (a check go-yaml dropped):
    compose reads the key ``a:``, we report a syntax error on that line rather than guess."""
    text = SERVICE + "x-probe: {a:,b}\n"
    (tmp_path / "compose.yaml").write_text(text)
    cli = run_cli(tmp_path, ["compose.yaml"])
    assert cli.ok and cli.config["x-probe"] == {"a:": None, "b": None}
    with pytest.raises(InputError) as err:
        parse_text(text, "compose.yaml")
    assert str(err.value) == "compose.yaml:4: YAML syntax error: found unexpected ':'"
