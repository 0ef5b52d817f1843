"""Performance findings cite the measured cost; others stay untouched."""

from __future__ import annotations

from auditor.benchmarks.annotate import annotate, measured_cost

from auditor.model import Finding, Resource, Severity

from .synthetic import document, standard_results


def finding(rule_id: str, message: str = "Published on all interfaces.") -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=Severity.MEDIUM,
        title="t",
        message=message,
        resource=Resource("container", "web"),
        location=None,
        evidence=(("binding", "0.0.0.0:80->80/tcp"),),
        remediation="r",
        fingerprint="fp",
    )


def test_userland_proxy_finding_cites_proxy_vs_nat():
    doc = document(standard_results())
    (out,) = annotate([finding("HOST004", "The userland proxy is enabled.")], doc)
    assert out.message.startswith(
        "The userland proxy is enabled; measured on this host (the userland proxy vs kernel DNAT): "
        "throughput 60% less, 95% CI"
    )
    assert "p50 round-trip latency 114% higher" in out.message
    ev = dict(out.evidence)
    assert ev["binding"] == "0.0.0.0:80->80/tcp"  # original evidence kept
    assert ev["throughput_published-proxy"] == "3.15 Gbit/s"
    assert ev["benchmark_run"] == "abc123 (2026-11-27T20:00:00+00:00)"
    assert out.fingerprint == "fp"


def test_other_rules_unchanged():
    doc = document(standard_results())
    other = finding("HOST002")
    assert annotate([other], doc) == (other,)
    assert measured_cost(doc, "HOST002") is None
    (net003,) = annotate([finding("NET003", "Host network.")], doc)
    assert net003.message.startswith(
        "Host network; measured on this host (what leaving host networking for the "
        "default bridge costs): throughput 30% less"
    )


def test_a_difference_within_noise_is_said_to_be():
    results = standard_results()
    bridge = results["bridge"]["throughput"]
    for sample, wobble in zip(results["user-bridge"]["throughput"], [1.1, 0.9, 1.05, 0.95, 1.0], strict=True):
        sample.value = bridge[results["user-bridge"]["throughput"].index(sample)].value * wobble
    (net001,) = annotate([finding("NET001", "Default bridge.")], document(results))
    assert "throughput 0% less" in net001.message or "throughput 0% more" in net001.message
    assert "within noise" in net001.message


def test_no_citation_without_the_measured_modes():
    results = standard_results()
    del results["published-nat"]
    doc = document(results, modes="bridge,published-proxy")
    f = finding("HOST004")
    assert annotate([f], doc) == (f,)


def test_few_repetitions_are_not_called_noise_but_too_few():
    results = {
        mode: {kind: samples[:3] for kind, samples in data.items()}
        for mode, data in standard_results().items()
    }
    (out,) = annotate([finding("HOST004", "Proxy on.")], document(results))
    assert "throughput 60% less" in out.message
    assert "3 repetitions, too few to call it real" in out.message
    assert "within noise" not in out.message
