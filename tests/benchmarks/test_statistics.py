"""Bootstrap intervals, paired ratios and the warning flags."""

from __future__ import annotations

import random

import pytest
from auditor.benchmarks.statistics import (
    bootstrap_median_ci,
    cpu_bound,
    is_bimodal,
    paired_ratio,
    relative_width,
    summarize,
)


def test_summary_median_and_interval_contains_median():
    s = summarize([10.0, 11.0, 12.0, 13.0, 14.0], seed=1)
    assert s.median == 12.0
    assert s.ci_low <= 12.0 <= s.ci_high
    assert s.ci_low >= 10.0 and s.ci_high <= 14.0
    assert s.samples == (10.0, 11.0, 12.0, 13.0, 14.0)


def test_too_few_samples_have_no_interval():
    s = summarize([5.0, 7.0])
    assert s.median == 6.0 and s.ci_low is None and s.ci_high is None
    assert bootstrap_median_ci([1.0, 2.0], random.Random(0)) is None
    assert summarize([]) is None


def test_interval_is_reproducible_for_a_seed():
    data = [random.Random(3).gauss(100, 5) for _ in range(20)]
    assert summarize(data, seed=7) == summarize(data, seed=7)


def test_interval_narrows_with_more_samples():
    rng = random.Random(42)
    small = [rng.gauss(100, 10) for _ in range(5)]
    large = [rng.gauss(100, 10) for _ in range(200)]
    assert relative_width(summarize(large)) < relative_width(summarize(small))


def test_paired_ratio_real_difference():
    base = [100.0, 120.0, 90.0, 110.0, 105.0]
    half = [b * 0.5 for b in base]
    r = paired_ratio(half, base)
    assert r.ratio == pytest.approx(0.5) and r.pairs == 5
    assert r.real is True


def test_paired_ratio_pairs_by_round_not_by_rank():
    # each round is slower or faster as a whole (machine drift); pairing removes the drift
    base = [50.0, 100.0, 150.0, 200.0, 250.0]
    mode = [49.0, 98.0, 147.0, 196.0, 245.0]  # consistently 2% slower in the same round
    r = paired_ratio(mode, base)
    assert r.ratio == pytest.approx(0.98)
    assert r.ci_high < 1.0 and r.real


def test_paired_ratio_no_difference_when_interval_straddles_one():
    r = paired_ratio([100.0, 90.0, 110.0, 95.0, 105.0], [100.0, 100.0, 100.0, 100.0, 100.0])
    assert r.ci_low < 1.0 < r.ci_high
    assert r.real is False


def test_paired_ratio_skips_missing_rounds_and_few_pairs_are_never_real():
    r = paired_ratio([None, 50.0, 40.0], [100.0, 100.0, None])
    assert r.pairs == 1 and r.ratio == 0.5
    assert r.real is False  # one pair: no interval, so no claim
    assert paired_ratio([None], [1.0]) is None


def test_bimodal_detection():
    assert is_bimodal([10.0, 10.2, 10.1, 20.0, 20.3, 19.9]) is True
    assert is_bimodal([10.0, 10.5, 11.0, 11.4, 12.0, 12.3]) is False
    assert is_bimodal([10.0, 20.0, 10.1]) is False  # too few for two groups


def test_cpu_bound():
    assert cpu_bound([95.0, 20.0, None], 115.0, cores=2) is True
    assert cpu_bound([60.0, 60.0, 70.0], 190.0, cores=2) is True  # machine saturated
    assert cpu_bound([40.0, 30.0, None], 70.0, cores=2) is False
    assert cpu_bound([None, None, None], None, cores=2) is False


def test_three_pairs_on_one_side_are_no_claim():
    r = paired_ratio([0.9, 0.95, 0.92], [1.0, 1.0, 1.0])
    assert r.ci_high < 1.0  # the interval exists ...
    assert r.real is False  # ... but three pairs are too few to call it real
