"""The result document: shape, ratios, flags, paths, skipped and failed modes, loading."""

from __future__ import annotations

import json

import pytest
from auditor.benchmarks.results import dumps, load, validate

from auditor.model.errors import InputError

from .synthetic import document, mode_samples, standard_results


def by_mode(doc):
    return {m["mode"]: m for m in doc["modes"]}


def test_shape_of_a_measured_mode():
    doc = document(standard_results())
    assert doc["schema_version"] == "1.0" and doc["kind"] == "auditor-bench"
    bridge = by_mode(doc)["bridge"]
    assert bridge["status"] == "ok" and bridge["skipped_reason"] is None
    assert set(bridge["throughput_bps"]) == {"median", "ci_low", "ci_high", "samples"}
    assert bridge["throughput_bps"]["median"] == pytest.approx(7.35e9)
    assert len(bridge["throughput_bps"]["samples"]) == 5
    assert set(bridge["latency_us"]) == {"p50", "p90", "p99", "p999"}
    assert bridge["latency_us"]["p99"] == pytest.approx(2 * bridge["latency_us"]["p50"])
    assert bridge["connections_per_s"]["median"] == pytest.approx(10200.0)
    assert bridge["cpu"]["throughput"] == {"client": 40.0, "server": 30.0, "proxy": None}
    assert bridge["congestion_control"] == "cubic"
    json.loads(dumps(doc))  # serialisable


def test_paired_ratio_to_each_baseline():
    bridge = by_mode(document(standard_results()))["bridge"]
    loop = bridge["ratio_to_baseline"]["host-loopback"]
    assert loop["metric"] == "throughput_bps"
    assert loop["ratio"] == pytest.approx(0.7) and loop["real"] is True
    assert loop["metrics"]["latency_p50_us"]["ratio"] == pytest.approx(22.0 / 15.0)
    assert set(bridge["ratio_to_baseline"]) == {"host-loopback", "none-loopback"}
    assert "host-loopback" not in by_mode(document(standard_results()))["host-loopback"]["ratio_to_baseline"]


def test_equal_modes_are_not_called_different():
    host = by_mode(document(standard_results()))["host"]
    assert host["ratio_to_baseline"]["host-loopback"]["ratio"] == pytest.approx(1.0)
    assert host["ratio_to_baseline"]["host-loopback"]["real"] is False


def test_proxy_path_and_cpu_bound_flag():
    modes = by_mode(document(standard_results()))
    assert modes["published-proxy"]["path"] == "userland proxy (docker-proxy)"
    assert "cpu-bound" in modes["published-proxy"]["flags"]
    assert modes["published-nat"]["path"] == "kernel DNAT"
    assert modes["bridge"]["path"] is None
    doc = document(standard_results())
    assert doc["environment"]["userland_proxy"]["path_taken"] == "userland proxy (docker-proxy)"


def test_comparisons_between_related_modes():
    doc = document(standard_results())
    comp = {(c["mode"], c["reference"]): c for c in doc["comparisons"]}
    proxy = comp[("published-proxy", "published-nat")]
    assert proxy["ratio"] == pytest.approx(0.4) and proxy["real"] is True


def test_skipped_and_failed_modes():
    results = standard_results()
    results.pop("user-bridge")
    doc = document(
        results, modes="bridge,user-bridge,macvlan", failures={"user-bridge": "network create failed"}
    )
    modes = by_mode(doc)
    assert modes["macvlan"]["status"] == "skipped"
    assert modes["macvlan"]["skipped_reason"].startswith("not run without --macvlan-parent")
    assert modes["user-bridge"] == {
        **modes["user-bridge"],
        "status": "failed",
        "error": "network create failed",
    }
    assert "throughput_bps" not in modes["user-bridge"]


def test_mode_whose_every_sample_failed_is_failed_with_the_tool_error():
    results = standard_results()
    broken = mode_samples([1.0] * 5)
    for s in broken["throughput"]:
        s.value, s.error = None, "iperf3: unable to connect to server: Connection refused"
    results["bridge"] = broken
    bridge = by_mode(document(results))["bridge"]
    assert bridge["status"] == "failed"
    assert bridge["error"] == "throughput: iperf3: unable to connect to server: Connection refused"


def test_partial_and_bimodal_flags():
    results = standard_results()
    results["bridge"] = mode_samples([5.0, 5.1, 9.0, 9.1, 5.05])
    results["bridge"]["latency"][2] = None
    flags = by_mode(document(results))["bridge"]["flags"]
    assert "bimodal" in flags and "partial" in flags


def test_load_rejects_other_files(tmp_path):
    good = tmp_path / "b.json"
    good.write_text(dumps(document(standard_results())))
    assert load(str(good))["run"]["id"] == "abc123"
    bad = tmp_path / "scan.json"
    bad.write_text('{"schema_version": "1.0", "findings": []}')
    with pytest.raises(InputError, match="not an `auditor bench` result"):
        load(str(bad))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InputError, match="malformed JSON"):
        load(str(broken))
    with pytest.raises(InputError, match="unsupported benchmark schema_version '2.0'"):
        validate({"kind": "auditor-bench", "schema_version": "2.0", "modes": []})
    with pytest.raises(InputError, match="no such benchmark result"):
        load(str(tmp_path / "missing.json"))
