"""GitLab Code Quality JSON: required fields, severity vocabulary, unique fingerprints."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from auditor.reports import codequality
from gates.cisupport import scan_result
from support.builders import container, mount, port, snapshot

from auditor.model.records import SourceKind, Target
from auditor.model.severity import Severity
from auditor.policy.apply import Policy, apply_policy
from auditor.policy.waivers import parse_waivers


def render(result) -> list[dict]:
    buf = io.StringIO()
    codequality.render(result, buf)
    return json.loads(buf.getvalue())


def test_issue_fields():
    issues = render(scan_result(snapshot(container("web", ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    assert issues == [
        {
            "type": "issue",
            "description": "PORT001: web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0).",
            "check_name": "PORT001",
            "categories": ["Security"],
            "content": {"body": issues[0]["content"]["body"]},
            "fingerprint": issues[0]["fingerprint"],
            "severity": "major",
            "location": {"path": "docker://testhost/containers/web", "lines": {"begin": 1}},
        }
    ]
    assert issues[0]["content"]["body"].startswith("Port published on all interfaces. Fix: ")
    assert len(issues[0]["fingerprint"]) == 32


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.CRITICAL, "blocker"),
        (Severity.HIGH, "critical"),
        (Severity.MEDIUM, "major"),
        (Severity.LOW, "minor"),
        (Severity.INFO, "info"),
    ],
)
def test_severity_vocabulary(severity, expected):
    result = apply_policy(
        scan_result(snapshot(container("web", ports=[port(80, 8080)])), rule_ids={"PORT001"}),
        Policy(today=dt.date(2030, 1, 1), severity={"PORT001": severity}),
    )
    assert [i["severity"] for i in render(result)] == [expected]


def test_fingerprints_unique_even_when_two_targets_share_a_name():
    snap_a = snapshot(
        container("web", ports=[port(80, 8080), port(443, 8443)]),
        container("s", mounts=[mount("/var/run/docker.sock")]),
    )
    snap_b = snapshot(
        container("web", ports=[port(80, 8080)]),
        target=Target(SourceKind.ENGINE, "testhost", "tcp://other:2376"),
    )
    result = scan_result(snap_a, snap_b)
    issues = render(result)
    assert len(issues) == len(result.findings) >= 5
    fps = [i["fingerprint"] for i in issues]
    assert len(set(fps)) == len(fps)


def test_waived_findings_are_left_out_and_expired_ones_say_so():
    snap = snapshot(container("web", ports=[port(80, 8080)]), container("api", ports=[port(81, 8081)]))
    waivers = parse_waivers(
        "- rule: PORT001\n  match: {container: web}\n  reason: r\n  owner: a\n  expires: 2031-01-01\n"
        "- rule: PORT001\n  match: {container: api}\n  reason: r\n  owner: b\n  expires: 2020-01-01\n",
        "w.yaml",
        ["PORT001"],
    )
    result = apply_policy(
        scan_result(snap, rule_ids={"PORT001"}), Policy(today=dt.date(2030, 1, 1), waivers=waivers)
    )
    assert [i["description"] for i in render(result)] == [
        "PORT001: api publishes 81/tcp on host port 8081 of all IPv4 interfaces (0.0.0.0). (waiver by b expired 2020-01-01)"
    ]
