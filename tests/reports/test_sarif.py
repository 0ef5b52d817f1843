"""SARIF output: the official 2.1.0 schema, GitHub's extra rules, locations, fingerprints, suppressions."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace

import jsonschema
import pytest
from auditor.reports import sarif
from gates.cisupport import (
    assert_valid_sarif,
    github_problems,
    is_valid_uri_reference,
    sarif_schema,
    scan_result,
)
from support.builders import container, mount, port, snapshot

from auditor.model.records import Origin, SourceKind, Target
from auditor.model.severity import Severity
from auditor.policy.apply import Policy, apply_policy
from auditor.policy.waivers import parse_waivers

COMPOSE_LABELS = {
    "com.docker.compose.project": "shop",
    "com.docker.compose.service": "web",
    "com.docker.compose.project.config_files": "/srv/shop/compose.yaml",
    "com.docker.compose.project.working_dir": "/srv/shop",
}


def render(result) -> dict:
    buf = io.StringIO()
    sarif.render(result, buf)
    return json.loads(buf.getvalue())


def results_by_rule(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in doc["runs"][0]["results"]:
        out.setdefault(r["ruleId"], []).append(r)
    return out


@pytest.fixture
def risky():
    return snapshot(
        container("web", ports=[port(80, 8080)]),
        container("sock", networks=("appnet",), mounts=[mount("/var/run/docker.sock")]),
        container("hostnet", network_mode="host", networks=()),
    )


def test_sarif_validates_and_follows_github_rules(risky):
    doc = render(scan_result(risky))
    assert_valid_sarif(doc)
    assert doc["version"] == "2.1.0"
    assert {"PORT001", "HOST002", "NET003"} <= set(results_by_rule(doc))


def test_empty_scan_is_valid_sarif():
    doc = render(scan_result(snapshot()))
    assert_valid_sarif(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_validator_rejects_broken_documents(risky):
    """The checks used everywhere here can fail: a bad document is caught by each of them."""
    doc = render(scan_result(risky))
    broken = json.loads(json.dumps(doc))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema()).validate(broken)
    no_loc = json.loads(json.dumps(doc))
    del no_loc["runs"][0]["results"][0]["locations"]
    assert any("no physical location" in p for p in github_problems(no_loc))
    bad_score = json.loads(json.dumps(doc))
    bad_score["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = "11.0"
    assert any("outside" in p for p in github_problems(bad_score))
    assert not is_valid_uri_reference("docker://h/containers/a b")


@pytest.mark.parametrize(
    ("severity", "level", "low", "high"),
    [
        (Severity.CRITICAL, "error", 9.0, 10.0),
        (Severity.HIGH, "error", 7.0, 8.9),
        (Severity.MEDIUM, "warning", 4.0, 6.9),
        (Severity.LOW, "note", 0.1, 3.9),
        (Severity.INFO, "note", 0.0, 3.9),
    ],
)
def test_severity_maps_to_level_and_score(severity, level, low, high):
    assert sarif.level(severity) == level
    assert isinstance(sarif.score(severity), str)
    assert low <= float(sarif.score(severity)) <= high


def test_rule_descriptor_fields(risky):
    doc = render(scan_result(risky))
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    port001 = rules["PORT001"]
    assert port001["name"] == "PortPublishedOnAllInterfaces"
    assert port001["shortDescription"]["text"] == "Port published on all interfaces"
    assert port001["fullDescription"]["text"].startswith("A port published without a host address")
    assert "127.0.0.1:8080:80" in port001["help"]["text"]
    assert port001["help"]["markdown"].startswith("**Port published on all interfaces**")
    assert port001["properties"]["security-severity"] == "5.5"
    assert port001["properties"]["tags"][0] == "security"
    assert rules["HOST002"]["properties"]["security-severity"] == "9.5"
    assert rules["HOST002"]["defaultConfiguration"]["level"] == "error"


def test_fingerprints_are_stable_and_never_container_ids(risky):
    first = render(scan_result(risky))
    recreated = snapshot(
        *(replace(c, id=f"new-{c.name}") for c in risky.containers),
        networks=risky.networks,
    )
    second = render(scan_result(recreated))
    fps = lambda d: [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in d["runs"][0]["results"]]  # noqa: E731
    assert fps(first) == fps(second)
    assert not any("id-" in fp or "new-" in fp for fp in fps(first))


def test_live_container_points_at_its_compose_file_inside_the_repository(tmp_path):
    labels = {
        **COMPOSE_LABELS,
        "com.docker.compose.project.config_files": str(tmp_path / "deploy" / "compose.yaml"),
    }
    snap = snapshot(container("shop-web-1", ports=[port(80, 8080)], labels=labels, project="shop"))
    doc = render(scan_result(snap, root=str(tmp_path)))
    assert_valid_sarif(doc)
    (result,) = results_by_rule(doc)["PORT001"]
    loc = result["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "deploy/compose.yaml"
    assert loc["physicalLocation"]["region"]["startLine"] == 1
    assert loc["logicalLocations"][0] == {
        "name": "shop-web-1",
        "fullyQualifiedName": "testhost/shop/shop-web-1",
        "kind": "resource",
    }


def test_live_container_outside_the_repository_gets_a_stable_synthetic_uri(tmp_path):
    snap = snapshot(container("shop web<1>", ports=[port(80, 8080)], labels=COMPOSE_LABELS, project="shop"))
    doc = render(scan_result(snap, root=str(tmp_path)))
    assert_valid_sarif(doc)
    (result,) = results_by_rule(doc)["PORT001"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "docker://testhost/containers/shop%20web%3C1%3E"


def test_compose_finding_points_at_file_and_line(tmp_path):
    target = Target(SourceKind.COMPOSE, "shop", "compose.yaml")
    svc = container("web", compose=True, ports=[port(80, 8080)], project="shop")
    bound = svc.ports[0].__class__(
        **{**svc.ports[0].__dict__, "origin": Origin(SourceKind.COMPOSE, "compose.yaml", 12, 9)}
    )
    svc = replace(svc, ports=(bound,))
    doc = render(scan_result(snapshot(svc, target=target), root=str(tmp_path)))
    assert_valid_sarif(doc)
    (result,) = results_by_rule(doc)["PORT001"]
    phys = result["locations"][0]["physicalLocation"]
    assert phys == {
        "artifactLocation": {"uri": "compose.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12},
    }


def test_waived_findings_are_suppressions_with_justification(risky):
    waivers = parse_waivers(
        "- rule: PORT001\n  match: {container: web}\n  reason: public web front end\n  owner: web-team\n  expires: 2031-01-31\n"
        "- rule: NET003\n  match: {container: hostnet}\n  reason: legacy\n  owner: ops\n  expires: 2029-12-31\n",
        "w.yaml",
        ["PORT001", "NET003"],
    )
    result = apply_policy(scan_result(risky), Policy(today=dt.date(2030, 6, 1), waivers=waivers))
    doc = render(result)
    assert_valid_sarif(doc)
    by_rule = results_by_rule(doc)
    (web,) = by_rule["PORT001"]
    assert web["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "public web front end (owner: web-team, expires 2031-01-31)",
        }
    ]
    (hostnet,) = by_rule["NET003"]
    assert "suppressions" not in hostnet
    assert hostnet["properties"]["waiver"]["state"] == "expired"
    notes = doc["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert [n["associatedRule"]["id"] for n in notes] == ["NET003"]
    assert "expired on 2029-12-31" in notes[0]["message"]["text"]


def test_baseline_state(risky):
    first = scan_result(risky)
    known = frozenset(f.fingerprint for f in first.findings if f.rule_id == "PORT001")
    doc = render(apply_policy(first, Policy(today=dt.date(2030, 1, 1), baseline=known)))
    assert_valid_sarif(doc)
    states = {r["ruleId"]: r["baselineState"] for r in doc["runs"][0]["results"]}
    assert states["PORT001"] == "unchanged"
    assert states["HOST002"] == "new"


def test_severity_override_changes_the_rule_score(risky):
    result = apply_policy(
        scan_result(risky), Policy(today=dt.date(2030, 1, 1), severity={"PORT001": Severity.CRITICAL})
    )
    doc = render(result)
    assert_valid_sarif(doc)
    rule = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "PORT001")
    assert rule["properties"]["security-severity"] == "9.5"
    assert results_by_rule(doc)["PORT001"][0]["level"] == "error"


def test_hostile_names_stay_valid(tmp_path):
    name = 'x"<script>alert(1)</script> \\ %zz'
    snap = snapshot(container(name, ports=[port(80, 8080)]))
    doc = render(scan_result(snap, root=str(tmp_path)))
    assert_valid_sarif(doc)
    (result,) = results_by_rule(doc)["PORT001"]
    assert result["locations"][0]["logicalLocations"][0]["name"] == name


def test_link_syntax_and_controls_in_names_are_escaped_in_message_text():
    """SARIF reads [text](target) in a plain-text message as an embedded link (GitHub renders it)."""
    name = "[click](javascript:alert(1))\\\x1b[2J\u202e"
    doc = render(scan_result(snapshot(container(name, ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    assert_valid_sarif(doc)
    (result,) = results_by_rule(doc)["PORT001"]
    assert result["message"]["text"] == (
        "\\[click\\](javascript:alert(1))\\\\\\\\x1b\\[2J\\\\u202e publishes 80/tcp on host port 8080 of all "
        "IPv4 interfaces (0.0.0.0)."
    )
    assert result["locations"][0]["logicalLocations"][0]["name"] == name  # data stays exact
