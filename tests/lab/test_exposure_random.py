"""Differential test: random DOCKER-USER rule sets on real engines, the model against packets.

Each hypothesis example is a pair of rule sets, one for the engine whose FORWARD policy is
DROP (``plain``) and one for the engine where it stayed ACCEPT (``fwd``, where direct routing
reaches unpublished ports). Each set replaces DOCKER-USER inside its engine's namespace; the
engine's firewall is read again, the matrix computed, and every attempt of every cell probed
from its zone, both engines at once. A disagreement fails with the rule sets printed (and
hypothesis shrinks them). Derandomized, so a run tries the same rule sets every time;
``AUDITOR_EXPOSURE_RULESETS`` (default 200) sets how many. At the end the share of unknown
answers must stay under 5%.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support.exposure_lab import Tally, analyze, compare, model_records, read_facts, with_iptables
from support.exposure_rules import restore_text, rule_set, undecided
from support.exposure_scenarios import apply, fill, restore

pytestmark = [pytest.mark.lab, pytest.mark.engine, pytest.mark.slow]

RULE_SETS = int(os.environ.get("AUDITOR_EXPOSURE_RULESETS", "200"))
ENGINES = ("plain", "fwd")


def test_random_docker_user_rule_sets_agree_with_packets(exposure_lab):
    lab = exposure_lab.lab
    base = {e: read_facts(lab, e) for e in ENGINES}
    records = {e: model_records(lab, e) for e in ENGINES}
    saved = {e: lab.iptables_save(e) for e in ENGINES}
    total = Tally()
    understood = Tally()  # the sets without a match the model cannot decide
    applied = 0
    started = time.monotonic()

    def one(engine: str, rules: tuple[str, ...]) -> Tally:
        text = fill(lab, engine, restore_text(rules), exposure_lab.lan_hosts[engine])
        apply(lab, engine, text)
        firewall, network = base[engine]
        facts = (with_iptables(firewall, lab.iptables_save(engine)), network)
        matrix = analyze(lab, engine, exposure_lab.probers[engine], facts, records[engine])
        return compare(lab, engine, matrix, exposure_lab.probers[engine], timeout=0.25, retry_timeout=0.75)

    @settings(
        max_examples=max(1, RULE_SETS // len(ENGINES)),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.tuples(*(rule_set() for _ in ENGINES)))
    def example(pair: tuple[tuple[str, ...], ...]) -> None:
        nonlocal applied
        with ThreadPoolExecutor(max_workers=len(ENGINES)) as pool:
            tallies = list(pool.map(one, ENGINES, pair))
        applied += len(ENGINES)
        for engine, rules, tally in zip(ENGINES, pair, tallies, strict=True):
            total.add(tally)
            if not undecided(rules):
                understood.add(tally)
            assert tally.disagreements == [], (engine, rules, tally.disagreements)

    try:
        example()
    finally:
        for engine in ENGINES:
            restore(lab, engine, saved[engine])
    elapsed = time.monotonic() - started
    unknown = total.cells_unknown / total.cells
    print(
        f"\n{applied} rule sets in {elapsed:.0f} s: {total.summary()}; "
        f"unknown {100 * unknown:.1f}% of cells, {100 * total.attempts_unknown / total.attempts:.1f}% of attempts; "
        f"sets with understood matches only: {understood.summary()}"
    )
    assert applied >= RULE_SETS - RULE_SETS % len(ENGINES)
    assert total.disagreements == []
    assert unknown < 0.05
