"""apply_policy: a pure function of a result and a policy (fixed clock)."""

from __future__ import annotations

import datetime as dt

from gates.cisupport import scan_result
from support.builders import container, mount, port, snapshot

from auditor.audit.discovery import discover_rules
from auditor.model import exit_codes
from auditor.model.findings import BaselineSplit, ExpiredWaiver, WaiverNote
from auditor.model.severity import Severity
from auditor.policy.apply import Policy, apply_policy, select_rules
from auditor.policy.waivers import parse_waivers

TODAY = dt.date(2030, 6, 15)


def risky():
    return snapshot(
        container("web", ports=[port(80, 8080)], project="shop", service="web"),
        container("sock", mounts=[mount("/var/run/docker.sock")]),
    )


def test_rule_selection_filters_findings_and_rules_run():
    result = apply_policy(scan_result(risky()), Policy(today=TODAY, enabled=frozenset({"PORT001"})))
    assert {f.rule_id for f in result.findings} == {"PORT001"}
    assert result.rules_run == ("PORT001",)
    result = apply_policy(scan_result(risky()), Policy(today=TODAY, disabled=frozenset({"PORT001"})))
    assert "PORT001" not in {f.rule_id for f in result.findings}
    assert "HOST002" in {f.rule_id for f in result.findings}
    rules = select_rules(
        discover_rules(include_plugins=False), Policy(today=TODAY, enabled=frozenset({"NET003", "HOST002"}))
    )
    assert [r.id for r in rules] == ["HOST002", "NET003"]


def test_severity_override_and_resort():
    base = scan_result(risky(), fail_on=Severity.CRITICAL)
    assert exit_codes.for_result(base) == exit_codes.GATE_FAILED  # HOST002 is critical
    result = apply_policy(
        base, Policy(today=TODAY, severity={"HOST002": Severity.LOW, "PORT001": Severity.CRITICAL})
    )
    by_rule = {f.rule_id: f.severity for f in result.findings}
    assert by_rule["HOST002"] is Severity.LOW
    assert by_rule["PORT001"] is Severity.CRITICAL
    assert result.findings[0].rule_id == "PORT001"
    assert [f.rule_id for f in result.gated_findings] == ["PORT001"]


def test_waiver_suppresses_until_expiry_then_reports():
    text = "- {rule: HOST002, match: {container: sock}, reason: ci runner, owner: build-team, expires: 2030-06-15}\n"
    waivers = parse_waivers(text, "w.yaml", ["HOST002"])
    base = scan_result(risky(), fail_on=Severity.HIGH)

    on_the_day = apply_policy(base, Policy(today=TODAY, waivers=waivers))
    (sock,) = [f for f in on_the_day.findings if f.rule_id == "HOST002"]
    assert sock.status == "waived"
    assert sock.waiver == WaiverNote(
        rule="HOST002",
        match="container=sock",
        reason="ci runner",
        owner="build-team",
        expires="2030-06-15",
        source="w.yaml:1",
        state="active",
    )
    assert on_the_day.policy.expired_waivers == ()
    assert on_the_day.policy.waived == 1
    assert exit_codes.for_result(on_the_day) == exit_codes.OK
    assert on_the_day.counts()["critical"] == 0

    next_day = apply_policy(base, Policy(today=TODAY + dt.timedelta(days=1), waivers=waivers))
    (sock,) = [f for f in next_day.findings if f.rule_id == "HOST002"]
    assert sock.status == "open"
    assert sock.waiver.state == "expired"
    assert next_day.policy.expired_waivers == (
        ExpiredWaiver(
            rule="HOST002",
            match="container=sock",
            reason="ci runner",
            owner="build-team",
            expires="2030-06-15",
            source="w.yaml:1",
            findings=1,
        ),
    )
    assert exit_codes.for_result(next_day) == exit_codes.GATE_FAILED


def test_service_match_uses_the_compose_label_of_a_live_container():
    waivers = parse_waivers(
        "- {rule: PORT001, match: {service: we?}, reason: r, owner: o, expires: 2031-01-01}\n",
        "w.yaml",
        ["PORT001"],
    )
    result = apply_policy(scan_result(risky()), Policy(today=TODAY, waivers=waivers))
    assert [f.status for f in result.findings if f.rule_id == "PORT001"] == ["waived"]


def test_baseline_marks_new_and_existing_and_fail_on_new_gates_only_new():
    base = scan_result(risky(), fail_on=Severity.MEDIUM)
    known = frozenset(f.fingerprint for f in base.findings if f.rule_id == "HOST002")
    result = apply_policy(base, Policy(today=TODAY, baseline=known, fail_on_new=True))
    states = {f.rule_id: f.baseline for f in result.findings}
    assert states["HOST002"] == "existing"
    assert states["PORT001"] == "new"
    assert result.policy.baseline == BaselineSplit(
        new=sum(1 for f in result.findings if f.baseline == "new"), existing=1
    )
    assert "HOST002" not in {f.rule_id for f in result.gated_findings}
    assert "PORT001" in {f.rule_id for f in result.gated_findings}
    everything_known = frozenset(f.fingerprint for f in base.findings)
    quiet = apply_policy(base, Policy(today=TODAY, baseline=everything_known, fail_on_new=True))
    assert quiet.gated_findings == ()
    assert exit_codes.for_result(quiet) == exit_codes.OK
    loud = apply_policy(base, Policy(today=TODAY, baseline=everything_known, fail_on_new=False))
    assert exit_codes.for_result(loud) == exit_codes.GATE_FAILED


def test_input_result_is_not_changed():
    base = scan_result(risky())
    before = [(f.status, f.severity, f.baseline) for f in base.findings]
    apply_policy(base, Policy(today=TODAY, severity={"PORT001": Severity.INFO}, baseline=frozenset()))
    assert [(f.status, f.severity, f.baseline) for f in base.findings] == before
    assert base.policy is None
