"""Cite measured costs in performance-related findings (``auditor scan --bench FILE``).

A pure function: findings and a benchmark result in, findings with a message suffix and extra
evidence out. Only modes measured successfully are cited; without numbers a finding is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from auditor.model.findings import Finding

from .statistics import MIN_PAIRS_FOR_CLAIM

# rule id -> (mode, reference mode, what the ratio means)
CITATIONS: dict[str, tuple[str, str, str]] = {
    "HOST004": ("published-proxy", "published-nat", "the userland proxy vs kernel DNAT"),
    "PORT001": ("published-nat", "host-to-container", "a published port vs the container's own address"),
    "NET003": ("bridge", "host", "what leaving host networking for the default bridge costs"),
    "NET001": ("bridge", "user-bridge", "the default bridge vs a user-defined bridge"),
}


def _comparison(doc: dict, mode: str, reference: str) -> dict | None:
    for c in doc.get("comparisons") or []:
        if c.get("mode") == mode and c.get("reference") == reference:
            return c.get("metrics") or {}
    return None


def _median(doc: dict, mode: str, key: str, inner: str = "median") -> float | None:
    for m in doc.get("modes") or []:
        if m.get("mode") == mode and m.get("status") == "ok":
            value = (m.get(key) or {}).get(inner)
            return float(value) if isinstance(value, int | float) else None
    return None


def _ratio_text(r: dict | None, lower_is_better: bool = False) -> str | None:
    if not r or not isinstance(r.get("ratio"), int | float):
        return None
    ratio = float(r["ratio"])
    change = (ratio - 1.0) * 100
    word = (
        ("more" if change > 0 else "less") if not lower_is_better else ("higher" if change > 0 else "lower")
    )
    interval = ""
    if isinstance(r.get("ci_low"), int | float) and isinstance(r.get("ci_high"), int | float):
        interval = f", 95% CI {(r['ci_low'] - 1) * 100:+.0f}%..{(r['ci_high'] - 1) * 100:+.0f}%"
    if r.get("real"):
        verdict = ""
    elif int(r.get("pairs") or 0) < MIN_PAIRS_FOR_CLAIM:
        verdict = f"; {r.get('pairs') or 0} repetitions, too few to call it real"
    else:
        verdict = "; within noise"
    return f"{abs(change):.0f}% {word}{interval}{verdict}"


def measured_cost(doc: dict, rule_id: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The sentence and evidence a finding of ``rule_id`` gets, or None without measurements."""
    if rule_id not in CITATIONS:
        return None
    mode, reference, meaning = CITATIONS[rule_id]
    metrics = _comparison(doc, mode, reference)
    if metrics is None:
        return None
    tput = _ratio_text(metrics.get("throughput_bps"))
    lat = _ratio_text(metrics.get("latency_p50_us"), lower_is_better=True)
    if not tput and not lat:
        return None
    parts = []
    if tput:
        parts.append(f"throughput {tput}")
    if lat:
        parts.append(f"p50 round-trip latency {lat}")
    sentence = f"measured on this host ({meaning}): {'; '.join(parts)}"
    evidence = [("measured_cost", sentence)]
    for name in (mode, reference):
        bps = _median(doc, name, "throughput_bps")
        if bps is not None:
            evidence.append((f"throughput_{name}", f"{bps / 1e9:.2f} Gbit/s"))
        p50 = _median(doc, name, "latency_us", "p50")
        if p50 is not None:
            evidence.append((f"latency_p50_{name}", f"{p50:.0f} us"))
    run = doc.get("run") or {}
    if run.get("id"):
        evidence.append(("benchmark_run", f"{run['id']} ({run.get('started_at', '?')})"))
    return sentence, tuple(evidence)


def annotate(findings: Iterable[Finding], doc: dict) -> tuple[Finding, ...]:
    """Findings with the measured cost appended where the benchmark measured it."""
    cache: dict[str, tuple[str, tuple[tuple[str, str], ...]] | None] = {}
    out = []
    for f in findings:
        if f.rule_id not in cache:
            cache[f.rule_id] = measured_cost(doc, f.rule_id)
        cited = cache[f.rule_id]
        if cited is None:
            out.append(f)
            continue
        sentence, evidence = cited
        message = f.message.rstrip()
        message = f"{message[:-1] if message.endswith('.') else message}; {sentence}."
        out.append(replace(f, message=message, evidence=(*f.evidence, *evidence)))
    return tuple(out)


def summary(doc: dict) -> dict:
    """What the scan result carries in ``extras['benchmark']``: the document as loaded."""
    return doc
