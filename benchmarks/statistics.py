"""Honest summaries: median with a bootstrap interval, paired ratios, and warning flags.

With few repetitions a percentile bootstrap interval is wide, which is the honest answer; a
difference is called real only when the paired ratio's interval excludes 1.0.
"""

from __future__ import annotations

import random
import statistics as _stats
from collections.abc import Sequence

from auditor.model.bench import Ratio, Summary

CONFIDENCE = 0.95
RESAMPLES = 2000
MIN_SAMPLES_FOR_CI = 3
# A percentile bootstrap over 3 or 4 pairs is too optimistic to base a claim on: with 3 pairs
# all on one side of 1.0 by chance (1 in 4) the interval would exclude 1.0. Claim from 5 on.
MIN_PAIRS_FOR_CLAIM = 5


def real_difference(ci_low: float | None, ci_high: float | None, pairs: int) -> bool:
    """True only with at least five pairs and an interval that excludes 1.0."""
    if ci_low is None or ci_high is None or pairs < MIN_PAIRS_FOR_CLAIM:
        return False
    return ci_high < 1.0 or ci_low > 1.0


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of already sorted values, ``q`` in [0, 1]."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def bootstrap_median_ci(
    values: Sequence[float], rng: random.Random, resamples: int = RESAMPLES, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the median; None with fewer than three values."""
    if len(values) < MIN_SAMPLES_FOR_CI:
        return None
    n, half = len(values), len(values) // 2
    medians = []
    for _ in range(resamples):
        resample = sorted(rng.choices(values, k=n))
        medians.append(resample[half] if n % 2 else (resample[half - 1] + resample[half]) / 2)
    medians.sort()
    alpha = (1 - confidence) / 2
    return _percentile(medians, alpha), _percentile(medians, 1 - alpha)


def summarize(values: Sequence[float], seed: int = 0) -> Summary | None:
    """Median and interval of the samples, or None when there is no sample."""
    clean = [float(v) for v in values if v is not None]
    if not clean:
        return None
    ci = bootstrap_median_ci(clean, random.Random(seed))  # noqa: S311 - bootstrap resampling
    return Summary(_stats.median(clean), ci[0] if ci else None, ci[1] if ci else None, tuple(clean))


def paired_ratio(
    values: Sequence[float | None], baseline: Sequence[float | None], seed: int = 0
) -> Ratio | None:
    """Ratios paired by repetition (same round, close in time); pairs with a gap are dropped."""
    ratios = [
        float(v) / float(b)
        for v, b in zip(values, baseline, strict=False)
        if v is not None and b is not None and b > 0
    ]
    if not ratios:
        return None
    ci = bootstrap_median_ci(ratios, random.Random(seed))  # noqa: S311 - bootstrap resampling
    low, high = (ci[0], ci[1]) if ci else (None, None)
    return Ratio(_stats.median(ratios), low, high, len(ratios), real_difference(low, high, len(ratios)))


def is_bimodal(values: Sequence[float], min_group: int = 2, min_relative_gap: float = 0.10) -> bool:
    """Two clusters: the largest gap between sorted samples dwarfs the spread on either side."""
    data = sorted(float(v) for v in values if v is not None)
    if len(data) < 2 * min_group:
        return False
    gaps = [(data[i + 1] - data[i], i) for i in range(min_group - 1, len(data) - min_group)]
    if not gaps:
        return False
    gap, index = max(gaps)
    low, high = data[: index + 1], data[index + 1 :]
    spread = max(low[-1] - low[0], high[-1] - high[0])
    median = _stats.median(data)
    return median > 0 and gap / median >= min_relative_gap and gap > 2 * spread


def relative_width(summary: Summary | None) -> float | None:
    """Interval width as a fraction of the median (None when there is no interval)."""
    if summary is None or summary.ci_low is None or summary.ci_high is None or summary.median == 0:
        return None
    return (summary.ci_high - summary.ci_low) / abs(summary.median)


def cpu_bound(
    per_process_pct: Sequence[float | None],
    total_pct: float | None,
    cores: int,
    process_limit: float = 90.0,
    machine_limit: float = 0.9,
) -> bool:
    """One process near a whole core, or all of them together near every core of the machine."""
    if any(p is not None and p >= process_limit for p in per_process_pct):
        return True
    return total_pct is not None and cores > 0 and total_pct >= machine_limit * 100.0 * cores
