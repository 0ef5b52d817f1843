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
    return json.loads(
        resources.files("auditor.reports").joinpath("schemas/scan-result.schema.json").read_text()
    )


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


def _analysed_result() -> ScanResult:
    """A scan of the captured default engine (tests/fixtures/netfilter/default) with its dumps."""
    from support.scan_fixtures import raw_of

    from auditor.audit.discovery import builtin_rules
    from auditor.audit.pipeline import evaluate
    from auditor.collectors.base import Collected
    from auditor.collectors.raw import normalize_raw

    raw = raw_of("default")
    return evaluate([Collected(raw.target, normalize_raw(raw), raw=raw)], builtin_rules(), Severity.HIGH,
                    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 0.0)  # fmt: skip


def test_the_exposure_key_validates_and_carries_every_cell_with_its_trace():
    doc = render(_analysed_result())
    jsonschema.validate(doc, schema())
    exposure = doc["exposure"]
    assert exposure["schema_version"] == "1.0"
    [target] = exposure["targets"]
    assert target["target"] == "default"
    assert [z["id"] for z in target["zones"]] == [
        "lan:eth0", "internet:eth0", "host", "network:appnet", "network:bridge", "network:othernet",
    ]  # fmt: skip
    cache = next(p for p in target["ports"] if p["container"] == "cache")
    assert (cache["port"], cache["bindings"], cache["outside"]) == (6379, [], "reachable")
    lan = cache["cells"][0]
    assert (lan["zone"], lan["verdict"], lan["via"], lan["destination"]) == (
        "lan:eth0",
        "reachable",
        "direct",
        "198.18.32.3:6379",
    )
    assert lan["trace"].startswith("route forward via br-24787d536495 -> filter FORWARD rule 1")
    assert len(cache["cells"]) == len(target["zones"])
    box = next(c for c in doc["topology"]["targets"][0]["containers"] if c["name"] == "cache")
    assert box["outside"] == "reachable" and box["ports"] == [
        {"display": "6379/tcp (exposed only)", "exposure": "unpublished", "outside": "reachable"}
    ]


def test_a_saved_result_keeps_what_is_reachable_from_outside_for_the_picture():
    from auditor.collectors.results import result_from_json

    doc = render(_analysed_result())
    again = result_from_json(doc)
    assert again.topology is not None
    outside = {c.name: c.outside for c in again.topology.targets[0].containers}
    assert outside == {"api": "reachable", "cache": "reachable", "db": "reachable", "web": "reachable"}


def test_the_schema_refuses_a_verdict_it_does_not_know():
    doc = render(_analysed_result())
    doc["exposure"]["targets"][0]["ports"][0]["cells"][0]["verdict"] = "protected"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema())
