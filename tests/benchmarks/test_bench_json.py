"""The result document: a pure serialisation of the records, read back with field-named errors."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from auditor.reports.bench_json import render_json

from auditor.model.bench import BenchResult, from_json, load, to_json
from auditor.model.errors import InputError

from .synthetic import document, standard_results

GOLDEN_INPUT = Path(__file__).resolve().parents[1] / "golden" / "input" / "bench.json"


def text(result: BenchResult) -> str:
    out = io.StringIO()
    render_json(result, out)
    return out.getvalue()


def test_document_of_the_synthetic_run_is_the_golden_input_byte_for_byte():
    assert text(document(standard_results())) == GOLDEN_INPUT.read_text()


def test_reading_and_writing_again_changes_nothing():
    original = GOLDEN_INPUT.read_text()
    result = load(str(GOLDEN_INPUT))
    assert result == document(standard_results())
    assert text(result) == original


def test_skipped_failed_and_udp_entries_round_trip():
    results = standard_results()
    results.pop("user-bridge")
    result = document(
        results, modes="bridge,user-bridge,macvlan", failures={"user-bridge": "network create failed"}
    )
    doc = to_json(result)
    modes = {m["mode"]: m for m in doc["modes"]}
    assert modes["user-bridge"] == {
        "mode": "user-bridge",
        "description": "container to container on a user-defined bridge network",
        "status": "failed",
        "skipped_reason": None,
        "error": "network create failed",
    }
    assert modes["macvlan"]["status"] == "skipped" and "throughput_bps" not in modes["macvlan"]
    assert from_json(json.loads(json.dumps(doc))) == result


def test_a_sparse_run_record_stays_sparse_and_the_environment_keeps_its_order():
    doc = to_json(document(standard_results()))
    assert doc["run"] == {"id": "abc123", "started_at": "2026-11-27T20:00:00+00:00", "repeat": 5}
    assert list(doc["environment"]) == ["hostname", "cpus", "kernel", "userland_proxy", "mtu"]
    assert doc["environment"]["userland_proxy"] == {
        "enabled": True,
        "source": "engine default",
        "path_taken": "userland proxy (docker-proxy)",
    }


def test_numbers_keep_their_type():
    doc = json.loads(GOLDEN_INPUT.read_text())
    doc["modes"][0]["throughput_bps"]["median"] = 10500000000  # an integer, as another writer may put it
    assert json.dumps(to_json(from_json(copy.deepcopy(doc)))) == json.dumps(doc)


def test_unknown_fields_are_ignored():
    doc = json.loads(GOLDEN_INPUT.read_text())
    doc["environment"]["numa_nodes"] = 2
    doc["modes"][0]["future_metric"] = {"x": 1}
    assert from_json(doc) == load(str(GOLDEN_INPUT))


def _broken(edit) -> str:
    doc = json.loads(GOLDEN_INPUT.read_text())
    edit(doc)
    with pytest.raises(InputError) as info:
        from_json(doc, "b.json")
    return str(info.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["modes"][2]["throughput_bps"].update(median="fast"),
            "modes[2].throughput_bps.median: expected a number",
        ),
        (
            lambda d: d["modes"][1].update(status="done"),
            "modes[1].status: expected ok, skipped or failed, not 'done'",
        ),
        (
            lambda d: d["modes"][0].pop("throughput_bps"),
            "modes[0].throughput_bps: missing (a measured mode has a throughput)",
        ),
        (
            lambda d: d["modes"][3]["ratio_to_baseline"]["host-loopback"]["metrics"]["latency_p50_us"].update(
                pairs=2.5
            ),
            "modes[3].ratio_to_baseline.host-loopback.metrics.latency_p50_us.pairs: expected an integer",
        ),
        (
            lambda d: d["modes"][4]["latency_detail"]["ci"].update(p99=[1.0]),
            "modes[4].latency_detail.ci.p99: expected [low, high]",
        ),
        (lambda d: d["modes"][0]["flags"].append(3), "modes[0].flags[1]: expected a string"),
        (lambda d: d["environment"].update(cpus="two"), "environment.cpus: expected an integer"),
        (lambda d: d["environment"]["mtu"].update(lo="big"), "environment.mtu.lo: expected an integer"),
        (
            lambda d: d["environment"]["userland_proxy"].update(enabled="yes"),
            "environment.userland_proxy.enabled: expected true or false",
        ),
        (lambda d: d["run"].update(repeat=True), "run.repeat: expected an integer"),
        (lambda d: d["comparisons"][0].pop("reference"), "comparisons[0].reference: expected a string"),
        (lambda d: d.update(comparisons={}), "comparisons: expected a list"),
    ],
)
def test_a_wrong_field_is_one_input_error_that_names_it(edit, message):
    assert _broken(edit) == f"b.json: not a valid benchmark result: {message}"


def test_other_documents_are_refused_with_the_reason(tmp_path):
    bad = tmp_path / "scan.json"
    bad.write_text('{"schema_version": "1.0", "findings": []}')
    with pytest.raises(InputError, match="not an `auditor bench` result \\(missing kind: auditor-bench\\)"):
        load(str(bad))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InputError, match="malformed JSON"):
        load(str(broken))
    with pytest.raises(InputError, match="unsupported benchmark schema_version '2.0' \\(expected 1.0\\)"):
        from_json({"kind": "auditor-bench", "schema_version": "2.0", "modes": []})
    with pytest.raises(InputError, match="benchmark result has no valid `modes` list"):
        from_json({"kind": "auditor-bench", "schema_version": "1.0", "modes": {}})
    with pytest.raises(InputError, match="no such benchmark result"):
        load(str(tmp_path / "missing.json"))
