"""Inline ignores: compose comments, x-auditor, the io.auditor.ignore label. Waived with the
reason and where it was written; a missing reason or an unknown rule id is an error."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from auditor.reports.sarif import sarif_json
from gates.cisupport import scan_result
from support.builders import container, port, snapshot

from auditor.model.errors import InputError
from auditor.model.suppress import parse_ignore
from auditor.policy.apply import Policy, apply_policy

KNOWN = frozenset({"PORT001", "PORT002", "PORT006", "NET001", "NET003", "NET009"})

COMPOSE = """\
x-auditor:
  ignore:
    - rule: NET009
      reason: one shared network is the design
services:
  web:
    image: nginx
    ports:
      - "8080:80"  # auditor: ignore=PORT001 reason="public web front end"
      # auditor: ignore=PORT001,PORT006 reason='TLS front end'
      - "443:443"
      - "8443:443"
  db:
    image: postgres:16
    ports: ["5432:5432"]
    x-auditor:
      ignore:
        - {rule: [PORT001, port002], reason: "lab database"}
  cache:
    image: redis:7
    labels:
      io.auditor.ignore: 'PORT002 reason="cache holds nothing"'
    ports: ["6379:6379"]
"""


def scan(directory: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    return subprocess.run(
        [sys.executable, "-m", "auditor", "scan", ".", *args],
        capture_output=True,
        text=True,
        cwd=directory,
        env=env,
        timeout=120,
    )


def by_place(report: dict) -> dict[tuple[str, str, int], tuple[str, str | None, str | None]]:
    out = {}
    for f in report["findings"]:
        w = f.get("waiver") or {}
        out[(f["rule_id"], f["resource"]["name"], f["location"]["line"])] = (
            f["status"],
            w.get("source"),
            w.get("reason"),
        )
    return out


def test_every_kind_of_inline_ignore_in_a_compose_project(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    proc = scan(tmp_path, "-f", "json", "--fail-on", "none")
    assert proc.returncode == 0, proc.stderr
    found = by_place(json.loads(proc.stdout))
    assert found[("PORT001", "web", 9)] == ("waived", "compose.yaml:9", "public web front end")
    assert found[("PORT001", "web", 11)] == ("waived", "compose.yaml:10", "TLS front end")
    assert found[("PORT001", "web", 12)] == ("open", None, None)  # the comment covers one line only
    assert found[("PORT002", "db", 15)] == ("waived", "compose.yaml:18", "lab database")
    assert ("PORT001", "db", 15) not in found  # folded into PORT002 for the same binding
    assert found[("PORT002", "cache", 23)] == (
        "waived",
        "compose.yaml:19 (label io.auditor.ignore on service cache)",
        "cache holds nothing",
    )
    assert ("PORT001", "cache", 23) not in found
    assert ("PORT006", "web", 11) not in found  # folded into PORT001 ("privileged, below 1024")
    assert {v for k, v in found.items() if k[0] == "NET009"} == {
        ("waived", "compose.yaml:3", "one shared network is the design")
    }


def test_inline_ignores_pass_the_gate_and_no_waivers_reopens_them(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]  # auditor: ignore=PORT002 reason="lab"\n'
    )
    assert scan(tmp_path, "--fail-on", "high").returncode == 0
    reopened = scan(tmp_path, "--fail-on", "high", "--no-waivers")
    assert reopened.returncode == 1
    table = scan(tmp_path, "--fail-on", "high").stdout
    assert "high [waived]" in table


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        (
            "# auditor: ignore=PORT002",
            'compose.yaml:4: inline ignore: an inline ignore needs a reason="..." (why the risk is accepted)',
        ),
        (
            '# auditor: ignore=PORT999 reason="x"',
            "compose.yaml:4: unknown rule id 'PORT999' in inline ignore (see `auditor rules`)",
        ),
        (
            "# auditor: skip=PORT002",
            'compose.yaml:4: unknown auditor comment (write "# auditor: ignore=RULE[,RULE...] reason=\\"why\\"")',
        ),
        (
            "# auditor: ignore=PORT002 reason=unquoted",
            "compose.yaml:4: inline ignore: expected reason=\"...\" after the rule ids, got 'reason=unquoted'",
        ),
    ],
)
def test_a_broken_inline_ignore_is_one_error_line(tmp_path, comment, error):
    (tmp_path / "compose.yaml").write_text(
        f'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]  {comment}\n'
    )
    proc = scan(tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == f"auditor: error: {error}\n"


def test_a_label_on_a_live_container_waives_its_findings_and_sarif_says_in_source():
    web = container("web", ports=[port(80, 8080)], labels={"io.auditor.ignore": 'PORT001 reason="public"'})
    other = container("api", ports=[port(80, 8081)])
    result = apply_policy(
        scan_result(snapshot(web, other)), Policy(today=dt.date(2030, 1, 1), known_rules=KNOWN)
    )
    waived = [(f.rule_id, f.resource.name, f.status) for f in result.findings if f.rule_id == "PORT001"]
    assert sorted(waived) == [("PORT001", "api", "open"), ("PORT001", "web", "waived")]
    (note,) = [f.waiver for f in result.findings if f.status == "waived"]
    assert (note.state, note.match, note.source) == (
        "inline",
        "container=web",
        "label io.auditor.ignore on container web",
    )
    assert result.policy.waived == 1
    (entry,) = [r for r in sarif_json(result)["runs"][0]["results"] if "suppressions" in r]
    assert entry["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "public (label io.auditor.ignore on container web)",
        }
    ]


def test_a_broken_label_on_a_live_container_is_a_warning_and_waives_nothing():
    web = container("web", ports=[port(80, 8080)], labels={"io.auditor.ignore": "PORT001"})
    other = container("api", ports=[port(80, 8081)], labels={"io.auditor.ignore": 'NOPE9 reason="x"'})
    result = apply_policy(
        scan_result(snapshot(web, other)), Policy(today=dt.date(2030, 1, 1), known_rules=KNOWN)
    )
    assert sorted((f.resource.name, f.status) for f in result.findings if f.rule_id == "PORT001") == [
        ("api", "open"),
        ("web", "open"),
    ]
    (snap,) = result.snapshots
    assert snap.warnings == (
        'label io.auditor.ignore on container web: an inline ignore needs a reason="..." (why the risk is accepted)'
        "; the label is ignored, its findings stay open",
        "label io.auditor.ignore on container api: unknown rule id 'NOPE9' in inline ignore (see `auditor rules`)"
        "; the label is ignored, its findings stay open",
    )


def test_a_broken_label_of_a_compose_service_is_an_error_naming_it():
    web = container("web", ports=[port(80, 8080)], labels={"io.auditor.ignore": "PORT001"}, compose=True)
    with pytest.raises(
        InputError, match=r"^label io.auditor.ignore on service web: an inline ignore needs a reason"
    ):
        apply_policy(scan_result(snapshot(web)), Policy(today=dt.date(2030, 1, 1), known_rules=KNOWN))


def test_parse_ignore_grammar():
    assert parse_ignore('port001, NET003 reason="a b"') == (("PORT001", "NET003"), "a b")
    assert parse_ignore("PORT001 reason='single'") == (("PORT001",), "single")
    with pytest.raises(ValueError, match="non-empty reason"):
        parse_ignore('PORT001 reason="  "')
