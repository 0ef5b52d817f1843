"""JUnit output: parses, one test case per finding, counts match, hostile names stay well-formed."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET

from auditor.reports import junit
from gates.cisupport import scan_result
from support.builders import container, port, snapshot

from auditor.model.findings import RuleError
from auditor.policy.apply import Policy, apply_policy
from auditor.policy.waivers import parse_waivers


def parse(result) -> ET.Element:
    buf = io.StringIO()
    junit.render(result, buf)
    return ET.fromstring(buf.getvalue().encode())  # noqa: S314 - our own output


def suite(root: ET.Element, rule_id: str) -> ET.Element:
    (found,) = [s for s in root.iter("testsuite") if s.get("name", "").startswith(f"{rule_id}:")]
    return found


def test_counts_match_findings():
    snap = snapshot(
        container("web", ports=[port(80, 8080), port(443, 8443)]),
        container("cache", ports=[port(6379, host_ip="127.0.0.1")]),
    )
    result = scan_result(snap)
    root = parse(result)
    open_count = sum(1 for f in result.findings if f.status == "open")
    assert open_count > 0
    assert int(root.get("failures")) == open_count == len(list(root.iter("failure")))
    assert int(root.get("tests")) == len(list(root.iter("testcase")))
    assert int(root.get("errors")) == 0
    port001 = suite(root, "PORT001")
    names = sorted(c.get("name") for c in port001.iter("testcase"))
    keys = sorted(f.key for f in result.findings if f.rule_id == "PORT001")
    assert len(keys) == 2
    assert names == [f"container/web [{k}]" for k in keys]
    assert port001.get("failures") == "2"
    failure = next(port001.iter("failure"))
    assert failure.get("type") == "medium"
    assert failure.get("message").startswith("web publishes ")


def test_rule_without_findings_is_one_passing_case_per_target():
    root = parse(scan_result(snapshot(container("quiet", ports=[]))))
    host002 = suite(root, "HOST002")
    cases = list(host002.iter("testcase"))
    assert [c.get("name") for c in cases] == ["engine testhost: no findings"]
    assert list(cases[0]) == []


def test_waived_findings_are_skipped_and_rule_errors_are_errors():
    snap = snapshot(container("web", ports=[port(80, 8080)]))
    waivers = parse_waivers(
        "- rule: PORT001\n  match: {container: web}\n  reason: front end\n  owner: team\n  expires: 2031-01-01\n",
        "w.yaml",
        ["PORT001"],
    )
    result = apply_policy(scan_result(snap), Policy(today=dt.date(2030, 1, 1), waivers=waivers))
    result = result.__class__(
        **{**result.__dict__, "rule_errors": (RuleError("NET001", "testhost", "ValueError: boom"),)}
    )
    root = parse(result)
    port001 = suite(root, "PORT001")
    (skipped,) = list(port001.iter("skipped"))
    assert skipped.get("message") == "waived until 2031-01-01 by team: front end"
    assert port001.get("failures") == "0" and port001.get("skipped") == "1"
    (error,) = list(suite(root, "NET001").iter("error"))
    assert error.get("message") == "ValueError: boom"
    assert root.get("errors") == "1"


def test_hostile_names_are_escaped():
    name = "<script>alert(1)</script>\x07&\"'"
    result = scan_result(snapshot(container(name, ports=[port(80, 8080)])))
    (key,) = [f.key for f in result.findings if f.rule_id == "PORT001"]
    names = [c.get("name") for c in suite(parse(result), "PORT001").iter("testcase")]
    assert names == [f"container/<script>alert(1)</script>\\x07&\"' [{key}]"]  # BEL shown, not rung


def test_bidi_and_controls_are_shown_escaped():
    result = scan_result(snapshot(container("gnp.\u202eexe\x1b]0;owned\x07", ports=[port(80, 8080)])))
    buf = io.StringIO()
    junit.render(result, buf)
    text = buf.getvalue()
    assert "\u202e" not in text and "\x1b" not in text and "\x07" not in text
    names = [c.get("name") for c in suite(parse(result), "PORT001").iter("testcase")]
    assert names[0].startswith("container/gnp.\\u202eexe\\x1b]0;owned\\x07 [")
