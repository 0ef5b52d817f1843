"""The result records: shape, ratios, flags, paths, skipped and failed modes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from auditor.benchmarks.runner import Sample

from auditor.model.bench import CpuUse, UserlandProxy

from .synthetic import ENV, document, mode_samples, standard_results


def by_mode(result):
    return {m.mode: m for m in result.modes}


def test_shape_of_a_measured_mode():
    bridge = by_mode(document(standard_results()))["bridge"]
    assert bridge.status == "ok" and bridge.skipped_reason is None and bridge.error is None
    m = bridge.measured
    assert m.throughput_bps.median == pytest.approx(7.35e9)
    assert m.throughput_bps.ci_low <= m.throughput_bps.median <= m.throughput_bps.ci_high
    assert len(m.throughput_bps.samples) == 5
    assert m.latency_us.p99 == pytest.approx(2 * m.latency_us.p50)
    assert m.latency_detail.observations == 5000
    assert len(m.latency_detail.p99.samples) == 5
    assert m.connections_per_s.median == pytest.approx(10200.0)
    assert m.cpu.throughput == CpuUse(client=40.0, server=30.0, proxy=None)
    assert m.congestion_control == "cubic"
    assert m.retransmits == 0.0
    assert m.udp is None


def test_paired_ratio_to_each_baseline():
    bridge = by_mode(document(standard_results()))["bridge"].measured
    assert [c.reference for c in bridge.ratio_to_baseline] == ["host-loopback", "none-loopback"]
    loop = bridge.ratio_to_baseline[0]
    assert loop.mode == "bridge"
    assert loop.headline.ratio == pytest.approx(0.7) and loop.headline.real is True
    assert loop.metrics.latency_p50_us.ratio == pytest.approx(22.0 / 15.0)
    own = by_mode(document(standard_results()))["host-loopback"].measured
    assert [c.reference for c in own.ratio_to_baseline] == ["none-loopback"]


def test_equal_modes_are_not_called_different():
    host = by_mode(document(standard_results()))["host"].measured
    assert host.ratio_to_baseline[0].headline.ratio == pytest.approx(1.0)
    assert host.ratio_to_baseline[0].headline.real is False


def test_proxy_path_and_cpu_bound_flag():
    result = document(standard_results())
    modes = by_mode(result)
    assert modes["published-proxy"].measured.path == "userland proxy (docker-proxy)"
    assert "cpu-bound" in modes["published-proxy"].measured.flags
    assert modes["published-nat"].measured.path == "kernel DNAT"
    assert modes["bridge"].measured.path is None
    assert result.environment.userland_proxy.path_taken == "userland proxy (docker-proxy)"


def test_proxy_disabled_path():
    results = standard_results()
    results["published-proxy"] = mode_samples([3.0] * 5, proxy_cpu=None)
    env = replace(ENV, userland_proxy=UserlandProxy(False, "/etc/docker/daemon.json"))
    disabled = document(results, environment=env)
    assert by_mode(disabled)["published-proxy"].measured.path == "kernel DNAT (userland proxy disabled)"
    assert by_mode(disabled)["published-nat"].measured.path == "kernel DNAT"


def test_comparisons_between_related_modes_in_their_listed_order():
    result = document(standard_results())
    assert [(c.mode, c.reference) for c in result.comparisons] == [
        ("published-proxy", "published-nat"),
        ("published-nat", "host-to-container"),
        ("bridge", "host"),
        ("bridge", "user-bridge"),
        ("host-to-container", "host"),
    ]
    proxy = result.comparison("published-proxy", "published-nat")
    assert proxy.headline.ratio == pytest.approx(0.4) and proxy.headline.real is True


def test_skipped_and_failed_modes():
    results = standard_results()
    results.pop("user-bridge")
    result = document(
        results, modes="bridge,user-bridge,macvlan", failures={"user-bridge": "network create failed"}
    )
    modes = by_mode(result)
    assert modes["macvlan"].status == "skipped"
    assert modes["macvlan"].skipped_reason.startswith("not run without --macvlan-parent")
    assert modes["user-bridge"].status == "failed"
    assert modes["user-bridge"].error == "network create failed"
    assert modes["user-bridge"].measured is None
    assert result.measured("user-bridge") is None and result.measured("bridge") is not None
    assert result.comparison("bridge", "user-bridge") is None


def test_mode_whose_every_sample_failed_is_failed_with_the_tool_error():
    results = standard_results()
    broken = mode_samples([1.0] * 5)
    for s in broken["throughput"]:
        s.value, s.error = None, "iperf3: unable to connect to server: Connection refused"
    results["bridge"] = broken
    bridge = by_mode(document(results))["bridge"]
    assert bridge.status == "failed"
    assert bridge.error == "throughput: iperf3: unable to connect to server: Connection refused"


def test_partial_and_bimodal_flags():
    results = standard_results()
    results["bridge"] = mode_samples([5.0, 5.1, 9.0, 9.1, 5.05])
    results["bridge"]["latency"][2] = None
    flags = by_mode(document(results))["bridge"].measured.flags
    assert "bimodal" in flags and "partial" in flags


def test_no_latency_measured():
    results = standard_results()
    results["bridge"]["latency"] = [None] * 5
    bridge = by_mode(document(results))["bridge"].measured
    assert bridge.latency_us is None and bridge.latency_detail is None
    assert bridge.ratio_to_baseline[0].metrics.latency_p50_us is None


def test_udp_loss_and_jitter_when_asked_for():
    results = standard_results()
    for data in results.values():
        data["udp"] = [Sample("udp", 0.5 + i, {"jitter_ms": 0.1}) for i in range(5)]
    udp = by_mode(document(results, udp=True))["bridge"].measured.udp
    assert (udp.rate, udp.datagram_bytes) == ("500M", 1200)
    assert udp.lost_percent.median == 2.5 and udp.jitter_ms.median == 0.1


def test_a_tool_error_of_several_rounds_is_listed_once():
    results = standard_results()
    for s in results["bridge"]["latency"][:3]:
        s.value, s.error = None, "sockperf: timed out"
    results["bridge"]["connections"][4].value = None
    results["bridge"]["connections"][4].error = "connrate: refused"
    errors = by_mode(document(results))["bridge"].measured.errors
    assert errors == ("latency: sockperf: timed out", "connections: connrate: refused")
