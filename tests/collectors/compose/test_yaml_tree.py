"""The positioned YAML tree: lines through anchors and merge keys, independent alias copies,
compose's tags, bounds that hold while reading, and the same tree from libyaml and from
PyYAML's pure-Python fallback.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.model import yamltree as tree
from auditor.model.errors import InputError
from auditor.model.yamltree import MAX_ALIAS_CHARS, RESET, Map, Seq, parse_text

ROOT = Path(__file__).parents[3]


@pytest.fixture(params=["libyaml", "pure-python"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure-python":
        monkeypatch.setitem(sys.modules, "yaml._yaml", None)
    return request.param


def shape(value: Any) -> Any:
    """Everything the tree says: values, kinds, override flags and every line."""
    if isinstance(value, Map):
        return (
            "map",
            value.origin.line,
            value.override,
            [(k, value.where[k].line, shape(v)) for k, v in value.items()],
        )
    if isinstance(value, Seq):
        return (
            "seq",
            value.origin.line,
            value.override,
            [(w.line, shape(v)) for v, w in zip(value, value.where, strict=True)],
        )
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def error(text: str) -> str:
    with pytest.raises(InputError) as err:
        parse_text(text, "compose.yaml")
    return str(err.value)


def test_the_c_parser_is_what_the_suite_exercises() -> None:
    assert yaml.__with_libyaml__
    assert type(tree._event_source("a: 1").__self__).__name__ == "CParser"


ANCHORED = """\
x-base: &base
  image: x
  ports:
    - "80:80"
services:
  a:
    <<: *base
    ports: ["81:81"]
  b: *base
  c:
    image: y
    expose: [*port]
x-port: &port 22
"""


def test_lines_through_anchors_aliases_and_merge_keys(reader: str) -> None:
    doc = parse_text(ANCHORED.replace("    expose: [*port]\n", ""), "compose.yaml")
    a, b = doc["services"]["a"], doc["services"]["b"]
    assert (a.origin.line, a.at("image").line, a.at("ports").line, a["ports"].at(0).line) == (6, 2, 8, 8)
    assert list(a) == ["ports", "image"]  # written keys first, then merged ones
    assert (b.origin.line, b.at("image").line, b.at("ports").line, b["ports"].at(0).line) == (9, 2, 3, 4)
    assert b == doc["x-base"] and b is not doc["x-base"]


def test_alias_copies_are_independent(reader: str) -> None:
    doc = parse_text("x-a: &a {labels: {k: v}}\nservices:\n  s: *a\n  t: *a\n", "compose.yaml")
    doc["services"]["s"]["labels"]["k"] = "changed"
    assert (doc["x-a"]["labels"]["k"], doc["services"]["t"]["labels"]["k"]) == ("v", "v")


def test_alias_before_its_anchor_and_cycles(reader: str) -> None:
    assert error(ANCHORED) == "compose.yaml:12: YAML syntax error: found undefined alias 'port'"
    assert error("x: &a {b: [*a]}\n") == "compose.yaml:1: alias *a is used inside its own anchor (a cycle)"


def test_redefined_anchor_means_its_latest_definition(reader: str) -> None:
    doc = parse_text("a: &x 1\nb: *x\nc: &x [2]\nd: *x\ne: &x [&x 3, *x]\nf: *x\n", "compose.yaml")
    assert (doc["b"], doc["d"], doc["e"], doc["f"]) == (1, [2], [3, 3], 3)


def test_reset_and_override_tags(reader: str) -> None:
    doc = parse_text(
        "ports: !reset []\nimage: !reset\nnetworks: !override {a: {}}\nexpose: !override ['1']\nname: !override x\n",
        "compose.yaml",
    )
    assert (doc["ports"], doc["image"], doc["name"]) == (RESET, RESET, "x")
    assert (doc["networks"].override, doc["expose"].override, doc.override) == (True, True, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("80: x\n", "compose.yaml:1: mapping key 80 is read as a number, not a string (quote it)"),
        ("a:\n  ~: x\n", "compose.yaml:2: mapping key ~ is read as null, not a string (quote it)"),
        (
            "a:\n  yes: 1\n  True: 2\n",
            "compose.yaml:3: mapping key True is read as a boolean, not a string (quote it)",
        ),
        (
            "k: &k 1\nm: {*k : v}\n",
            "compose.yaml:2: mapping key *k is read as a number, not a string (quote it)",
        ),
        ("a: {<<: {b: 1}, <<: {c: 2}}\n", "compose.yaml:1: mapping key '<<' already defined at line 1"),
        ("a:\n  b: 1\n  'b': 2\n", "compose.yaml:3: mapping key 'b' already defined at line 2"),
        ("a: {<<: [{b: 1}, 2]}\n", "compose.yaml:1: a merge key (<<) needs a mapping or a list of mappings"),
        (
            "a: 1\n---\nb: 2\n",
            "compose.yaml:2: YAML syntax error: a second document (---) in one compose file",
        ),
        ("a: !!int x\n", "compose.yaml:1: YAML value 'x' cannot be read as !!int"),
        (
            "a: !!float 18446744073709551615\n",
            "compose.yaml:1: YAML value '18446744073709551615' cannot be read as !!float",
        ),
        ("a: b\nc\n", "compose.yaml:2: YAML syntax error: could not find expected ':'"),
    ],
)
def test_errors_name_the_line(reader: str, text: str, message: str) -> None:
    assert error(text) == message


def test_node_bound_holds_while_reading(reader: str) -> None:
    assert (
        error("a: [" + "1," * 300_000 + "1]\n")
        == "compose.yaml: document too large after expanding aliases (over 200000 nodes)"
    )


def test_text_copied_by_aliases_is_bounded(reader: str) -> None:
    big = "y" * (1 << 20)
    text = f"a: &s {big}\nb: [{', '.join(['*s'] * (MAX_ALIAS_CHARS // len(big) + 1))}]\n"
    assert (
        error(text)
        == f"compose.yaml: document too large after expanding aliases (over {MAX_ALIAS_CHARS} characters)"
    )


@pytest.mark.parametrize(
    "text",
    ["a: " + "[" * 5000 + "]" * 5000, "a:\n  " + "- " * 5000 + "x\n", "a: " + "{b: " * 2000 + "}" * 2000],
)
def test_deep_nesting_stops_at_the_same_bound(reader: str, text: str) -> None:
    assert error(text).endswith("document nested deeper than 64 levels")


def compose_files() -> list[Path]:
    found = sorted((ROOT / "tests" / "fixtures").rglob("*.y*ml")) + sorted(
        (ROOT / "examples").rglob("*.y*ml")
    )
    return [f for f in found if "compose" in f.name]


MANY_FORMS = """\
%YAML 1.1
---
x-env: &env {TZ: UTC, LEVEL: 017, RATE: 1_000, RATIO: .5, ON: on, NONE: ~, "Q": '1'}
services:
  web:
    image: "nginx:${TAG:-1.27}"
    command: >
      run --port 80
      --verbose
    entrypoint: |
      #!/bin/sh
      exec "$@"
    environment: *env
    labels: [a=1, "b=2", !!str 3]
    ports:
      - 22:22
      - {target: 80, published: 0x1F90, host_ip: '127.0.0.1'}
    healthcheck: {test: [CMD, true], interval: 1e3}
    networks: {front: {priority: -0o12}, back: null}
  worker:
    <<: [*env, {image: w}]
    tty: !!bool "true"
networks: {front: {}, back: {internal: !override TRUE}}
...
"""


def test_fixtures_read_alike_by_both_parsers(monkeypatch: pytest.MonkeyPatch) -> None:
    files = compose_files()
    assert len(files) >= 7
    texts = {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8-sig") for f in files} | {
        "many.yaml": MANY_FORMS
    }
    with_c = {name: shape(parse_text(text, name)) for name, text in texts.items()}
    monkeypatch.setitem(sys.modules, "yaml._yaml", None)
    assert {name: shape(parse_text(text, name)) for name, text in texts.items()} == with_c
