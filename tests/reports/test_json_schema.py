"""The JSON result validates against its published schema, including hostile and edge cases."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from importlib import resources

import jsonschema
import pytest
from auditor.reports import json_report
from support.builders import TARGET, container, mount, port, snapshot

from auditor.audit.discovery import discover_rules
from auditor.audit.run import run_rules
from auditor.model.findings import ScanResult, TargetResult
from auditor.model.severity import Severity


def schema() -> dict:
    return json.loads(resources.files("auditor.reports").joinpath("schemas/scan-result.schema.json").read_text())


def render(result: ScanResult) -> dict:
    buf = io.StringIO()
    json_report.render(result, buf)
    return json.loads(buf.getvalue())


def result_for(snap, fail_on=Severity.HIGH, status="complete") -> ScanResult:
    run = run_rules(snap, discover_rules())
    return ScanResult(
        tool_version="0.1.0",
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        duration_s=0.5,
        fail_on=fail_on,
        targets=(TargetResult(TARGET, status, None if status == "complete" else "boom"),),
        findings=run.findings,
        rule_errors=run.errors,
        rules_run=("PORT001",),
    )


@pytest.mark.parametrize("fail_on", [Severity.HIGH, None])
def test_result_validates(fail_on):
    snap = snapshot(
        container("<script>alert(1)</script>", ports=[port(6379, host_ip="::"), port(80, host_ip="")]),
        container("sock", mounts=[mount("/var/run/docker.sock")], network_mode="host", networks=()),
    )
    doc = render(result_for(snap, fail_on))
    jsonschema.validate(doc, schema())
    assert doc["gate"]["fail_on"] == ("none" if fail_on is None else "high")
    assert doc["summary"]["total"] == len(doc["findings"]) > 0


def test_incomplete_scan_never_passes():
    doc = render(result_for(snapshot(), status="failed"))
    jsonschema.validate(doc, schema())
    assert doc["gate"]["passed"] is False and doc["gate"]["verdict"] == "incomplete"
