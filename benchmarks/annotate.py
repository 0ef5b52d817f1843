"""Cite measured costs in performance-related findings (``auditor scan --bench FILE``).

A pure function: findings and a benchmark result in, findings with a message suffix and extra
evidence out. Which rule quotes which comparison is said by the modes (``Citation``); only
modes measured successfully are cited, and without numbers a finding is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from auditor.model.bench import BenchResult, Ratio
from auditor.model.findings import Finding

from .modes import MODES, Mode, cited
from .statistics import MIN_PAIRS_FOR_CLAIM

Citation = tuple[str, tuple[tuple[str, str], ...]]


def _ratio_text(r: Ratio | None, lower_is_better: bool = False) -> str | None:
    if r is None:
        return None
    change = (r.ratio - 1.0) * 100
    up, down = ("higher", "lower") if lower_is_better else ("more", "less")
    word = up if change > 0 else down
    interval = ""
    if r.ci_low is not None and r.ci_high is not None:
        interval = f", 95% CI {(r.ci_low - 1) * 100:+.0f}%..{(r.ci_high - 1) * 100:+.0f}%"
    if r.real:
        verdict = ""
    elif r.pairs < MIN_PAIRS_FOR_CLAIM:
        verdict = f"; {r.pairs} repetitions, too few to call it real"
    else:
        verdict = "; within noise"
    return f"{abs(change):.0f}% {word}{interval}{verdict}"


def measured_cost(bench: BenchResult, rule_id: str, registry: Sequence[Mode] = MODES) -> Citation | None:
    """The sentence and evidence a finding of ``rule_id`` gets, or None without measurements."""
    found = cited(rule_id, registry)
    if found is None:
        return None
    mode, reference, meaning = found
    comparison = bench.comparison(mode, reference)
    if comparison is None:
        return None
    tput = _ratio_text(comparison.metrics.throughput_bps)
    lat = _ratio_text(comparison.metrics.latency_p50_us, lower_is_better=True)
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
        measured = bench.measured(name)
        if measured is None:
            continue
        evidence.append((f"throughput_{name}", f"{measured.throughput_bps.median / 1e9:.2f} Gbit/s"))
        p50 = measured.latency_us.p50 if measured.latency_us else None
        if p50 is not None:
            evidence.append((f"latency_p50_{name}", f"{p50:.0f} us"))
    if bench.run.id:
        evidence.append(("benchmark_run", f"{bench.run.id} ({bench.run.started_at or '?'})"))
    return sentence, tuple(evidence)


def annotate(
    findings: Iterable[Finding], bench: BenchResult, registry: Sequence[Mode] = MODES
) -> tuple[Finding, ...]:
    """Findings with the measured cost appended where the benchmark measured it."""
    cache: dict[str, Citation | None] = {}
    out = []
    for f in findings:
        if f.rule_id not in cache:
            cache[f.rule_id] = measured_cost(bench, f.rule_id, registry)
        quoted = cache[f.rule_id]
        if quoted is None:
            out.append(f)
            continue
        sentence, evidence = quoted
        message = f.message.rstrip()
        message = f"{message[:-1] if message.endswith('.') else message}; {sentence}."
        out.append(replace(f, message=message, evidence=(*f.evidence, *evidence)))
    return tuple(out)
