"""Mode selection, skip reasons and the shuffled, interleaved schedule."""

from __future__ import annotations

from collections import Counter

import pytest
from auditor.benchmarks.modes import baselines, names
from auditor.benchmarks.plan import options, parse_modes, plan, schedule
from auditor.benchmarks.settings import Capabilities

from auditor.model.errors import InputError


def test_parse_modes_keeps_canonical_order():
    assert parse_modes("bridge, host-loopback,host") == ("host-loopback", "host", "bridge")


def test_unknown_mode_is_an_input_error():
    with pytest.raises(InputError, match="unknown mode\\(s\\) bridgee"):
        parse_modes("bridge,bridgee")


def test_quick_defaults_and_explicit_values_win():
    o = options(quick=True)
    assert (o.duration, o.repeat, o.omit) == (1.0, 3, 1)
    o = options(quick=True, repeat=7, duration=2)
    assert (o.duration, o.repeat) == (2.0, 7)


@pytest.mark.parametrize("kwargs", [{"duration": 0}, {"repeat": 0}, {"duration": 1000}])
def test_bad_numbers(kwargs):
    with pytest.raises(InputError):
        options(**kwargs)


def test_baselines_always_planned():
    names = [p.name for p in plan(options(modes="bridge"), Capabilities())]
    assert names == ["host-loopback", "none-loopback", "bridge"]


def test_default_skips_explain_why():
    planned = {p.name: p for p in plan(options(), Capabilities())}
    assert set(planned) == set(names())
    assert planned["macvlan"].skipped_reason.startswith("not run without --macvlan-parent IFACE")
    assert planned["overlay"].skipped_reason.startswith("not run without --overlay")
    assert all(planned[m].runnable for m in names() if m not in ("macvlan", "overlay"))


def test_overlay_needs_a_swarm_manager():
    no_swarm = {p.name: p for p in plan(options(overlay=True), Capabilities())}
    assert (
        no_swarm["overlay"].skipped_reason
        == "the engine is not part of a swarm (auditor never initialises one)"
    )
    worker = {p.name: p for p in plan(options(overlay=True), Capabilities(swarm_active=True))}
    assert "swarm worker" in worker["overlay"].skipped_reason
    manager = {
        p.name: p for p in plan(options(overlay=True), Capabilities(swarm_active=True, swarm_manager=True))
    }
    assert manager["overlay"].runnable


def test_missing_gateway_and_remote_engine():
    planned = {p.name: p for p in plan(options(), Capabilities(gateway_ip=None, engine_local=False))}
    assert planned["host-loopback"].runnable
    assert "not on this machine" in planned["bridge"].skipped_reason
    no_gw = {p.name: p for p in plan(options(), Capabilities(gateway_ip=None))}
    assert (
        no_gw["published-nat"].skipped_reason
        == "the default bridge has no IPv4 gateway address to publish on"
    )


def test_missing_tools_skip_everything():
    planned = plan(options(), Capabilities(tools_missing=("sockperf",)))
    assert all(p.skipped_reason == "missing on this host: sockperf" for p in planned)


def test_schedule_interleaves_and_shuffles():
    modes = ["a", "b", "c", "d"]
    steps = schedule(modes, repeat=5, warmup=1, seed=3)
    assert len(steps) == 4 * 6
    assert all(s.warmup for s in steps[:4]) and not any(s.warmup for s in steps[4:])
    for r in range(-1, 5):  # every round holds each mode exactly once
        assert sorted(s.mode for s in steps if s.round == r) == modes
    orders = {tuple(s.mode for s in steps if s.round == r) for r in range(5)}
    assert len(orders) > 1  # shuffled, not a fixed order
    assert schedule(modes, 5, 1, seed=3) == steps  # the seed reproduces the order
    assert Counter(s.mode for s in steps) == {m: 6 for m in modes}


def test_baselines():
    assert baselines() == ("host-loopback", "none-loopback")


def test_options_without_a_seed_draw_one_and_keep_a_given_one():
    assert options(seed=7).seed == 7
    assert len({options().seed for _ in range(5)}) > 1
